"""How maritime companies and their people are named, culture by culture (pure data).

A *culture* decides the company name patterns (in English and, where the company has one, in its
home script), the stems that go into them, and the email habits of its people. Faker supplies
people's names and surnames for company names; it has no maritime vocabulary and no paired
Latin spellings for Chinese or Korean stems, so those stems are listed here.

Template fields: ``{k}`` the stem in the home script, ``{r}`` the stem in Latin letters,
``{r2}`` a second Latin stem, ``{w}`` a maritime word, ``{x}`` a ship-name word, ``{i}`` a
founder's initials (A.P. Møller, J. Lauritzen), ``{legal}`` the country's legal form.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.seed.catalog import OrgType


@dataclass(frozen=True)
class CompanyFormat:
    english: str
    local: str | None = None  # the registered name in the home script, when there is one


def _formats(*rows: tuple[str, str | None]) -> tuple[CompanyFormat, ...]:
    return tuple(CompanyFormat(english, local) for english, local in rows)


def _english(*rows: str) -> tuple[CompanyFormat, ...]:
    return tuple(CompanyFormat(english) for english in rows)


@dataclass(frozen=True)
class CultureSpec:
    key: str
    locale: str  # the portal language its people prefer: "ja" or "en"
    faker_locale: str  # where people's (and surname stems') names come from
    formats: dict[OrgType, tuple[CompanyFormat, ...]]
    words: tuple[str, ...]  # maritime words for {w}
    freemail: tuple[tuple[str, int], ...] = (
        ("gmail.com", 55),
        ("outlook.com", 15),
        ("hotmail.com", 15),
        ("yahoo.com", 10),
        ("icloud.com", 5),
    )
    departments: tuple[str, str, str] = (
        "General Affairs",
        "Technical Department",
        "Accounts Department",
    )
    role_mailboxes: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] = (
        ("info", "office", "admin", "general"),
        ("technical", "tech", "marine", "fleet", "operations", "superintendent"),
        ("accounts", "accounting", "finance", "billing", "invoice"),
    )
    # Stems listed here (home script, Latin); Faker-derived stems are added by the pools.
    stems: tuple[tuple[str, str], ...] = ()
    # Ports and regions: stems on their own (Imabari Kaiun) and prefixes of other stems
    # (今治共栄海運, Imabari Kyoei Kaiun), which is how many companies tell themselves apart.
    places: tuple[tuple[str, str], ...] = ()
    # Two-syllable stems are compounded from these (home script, Latin): Chinese and Korean
    # company names are mostly auspicious compounds (華海 Hua Hai, 대동 Daedong).
    syllables: tuple[tuple[str, str], ...] = ()
    syllable_separator: str = ""
    # How many letter-initial stems to make (MK Kaiun, エムケー海運): common among Japan's
    # small owners and yards.
    initial_stems: int = 0
    # Family names drawn from this list instead of Faker (Faker has no Cantonese or Singaporean
    # romanizations); given names still come from `faker_locale`.
    family_names: tuple[str, ...] = ()
    german_umlauts: bool = False


# How Japanese spell Latin initials in katakana (MK → エムケー).
KATAKANA_LETTERS = dict(
    zip(
        "ABCDEFGHIJKLMNOPRSTUWYZ",
        (
            "エー", "ビー", "シー", "ディー", "イー", "エフ", "ジー", "エイチ",
            "アイ", "ジェイ", "ケー", "エル", "エム", "エヌ", "オー", "ピー",
            "アール", "エス", "ティー", "ユー", "ダブリュー", "ワイ", "ゼット",
        ),
        strict=True,
    )
)  # fmt: skip

ENGLISH_WORDS = (
    "Atlantic", "Pacific", "Ocean", "Meridian", "Horizon", "Polaris", "Orion", "Sirius", "Vega",
    "Altair", "Neptune", "Triton", "Anchor", "Compass", "Harbour", "Seaways", "Bluewater",
    "Northstar", "Crest", "Tidal", "Coral", "Beacon", "Seahorse", "Albatross", "Mariner",
)  # fmt: skip

_EN_FORMATS: dict[OrgType, tuple[CompanyFormat, ...]] = {
    "owner": _english(
        "{r} Shipping {legal}", "{r} Maritime {legal}", "{w} Navigation {legal}",
        "{r} & {r2} Shipping {legal}", "{w} Tankers {legal}", "{w} Bulk Carriers {legal}",
        "{r} Marine {legal}", "{w} Shipping Lines {legal}", "{i} {r} Shipping {legal}",
    ),
    "manager": _english(
        "{r} Ship Management {legal}", "{w} Shipmanagement {legal}", "{r} Marine Services {legal}",
        "{w} Fleet Management {legal}", "{r} Crew & Technical Management {legal}",
        "{r} & {r2} Marine Services {legal}", "{i} {r} Ship Management {legal}",
    ),
    "shipyard": _english(
        "{r} Shipyard {legal}", "{r} Shipbuilders {legal}", "{w} Ship Repair {legal}",
        "{w} Dockyard {legal}", "{r} Marine Engineering {legal}",
        "{r} & {r2} Engineering {legal}",
    ),
    "design": _english(
        "{r} Naval Architects {legal}", "{r} Marine Design {legal}",
        "{r} & {r2} Marine Consultants {legal}", "{w} Marine Engineering {legal}",
        "{r} Ship Design {legal}",
    ),
}  # fmt: skip

JAPANESE = CultureSpec(
    key="ja",
    faker_locale="ja_JP",
    locale="ja",
    formats={
        "owner": _formats(
            ("{r} Kaiun Co., Ltd.", "{k}海運株式会社"),
            ("{r} Kisen Kaisha, Ltd.", "{k}汽船株式会社"),
            ("{r} Shosen Co., Ltd.", "{k}商船株式会社"),
            ("{r} Marine Co., Ltd.", "株式会社{k}マリン"),
            ("{r} Shipping Co., Ltd.", "{k}シッピング株式会社"),
            ("{r} Kaiun Ltd.", "有限会社{k}海運"),
            ("{r} Tanker Co., Ltd.", "{k}タンカー株式会社"),
        ),
        "manager": _formats(
            ("{r} Ship Management Co., Ltd.", "{k}船舶管理株式会社"),
            ("{r} Marine Service Co., Ltd.", "{k}マリンサービス株式会社"),
            ("{r} Senpaku Kanri Co., Ltd.", "株式会社{k}船舶管理"),
        ),
        "shipyard": _formats(
            ("{r} Shipbuilding Co., Ltd.", "{k}造船株式会社"),
            ("{r} Zosen Co., Ltd.", "株式会社{k}造船所"),
            ("{r} Heavy Industries Co., Ltd.", "{k}重工業株式会社"),
            ("{r} Dockyard Co., Ltd.", "{k}ドック株式会社"),
            ("{r} Shipbuilding & Engineering Co., Ltd.", "{k}造船鉄工株式会社"),
        ),
        "design": _formats(
            ("{r} Ship Design Co., Ltd.", "株式会社{k}船舶設計"),
            ("{r} Marine Engineering Co., Ltd.", "{k}マリンエンジニアリング株式会社"),
            ("{r} Naval Architects Office", "{k}船舶設計事務所"),
            ("{r} Marine Technology Laboratory Co., Ltd.", "株式会社{k}海事技術研究所"),
        ),
    },
    # Names Japanese owners give their foreign single-ship companies and their ships.
    words=(
        "Sakura", "Kaede", "Hikari", "Asahi", "Fuji", "Kotobuki", "Hinode", "Mizuho", "Suisei",
        "Tenyu", "Shinyo", "Eiko", "Koyo", "Ryoun", "Seiwa", "Kirin", "Hoyo", "Zuiho", "Kaiho",
        "Shoyo", "Taisei", "Meisei", "Shinsei", "Hakuyo",
    ),
    freemail=(
        ("gmail.com", 40),
        ("yahoo.co.jp", 35),
        ("outlook.jp", 10),
        ("icloud.com", 10),
        ("hotmail.co.jp", 5),
    ),
    initial_stems=300,
    departments=("総務部", "工務部", "経理部"),
    role_mailboxes=(
        ("info", "soumu", "office", "kanri"),
        ("koumu", "gijutsu", "technical", "marine", "ope", "sekkei"),
        ("keiri", "accounts", "kaikei"),
    ),
    stems=(
        ("東洋", "Toyo"), ("大洋", "Taiyo"), ("旭", "Asahi"), ("日の出", "Hinode"),
        ("第一", "Daiichi"), ("太平", "Taihei"), ("瑞穂", "Mizuho"), ("富士", "Fuji"),
        ("明和", "Meiwa"), ("昭栄", "Shoei"), ("新和", "Shinwa"), ("共栄", "Kyoei"),
        ("協和", "Kyowa"), ("大和", "Yamato"), ("扶桑", "Fuso"), ("北星", "Hokusei"),
        ("南海", "Nankai"), ("東海", "Tokai"), ("西海", "Saikai"), ("三洋", "Sanyo"),
        ("栄光", "Eiko"), ("光洋", "Koyo"), ("大栄", "Daiei"), ("日栄", "Nichiei"),
        ("三栄", "Sanei"), ("福栄", "Fukuei"), ("丸一", "Maruichi"), ("共同", "Kyodo"),
        ("日本", "Nippon"), ("大同", "Daido"), ("中央", "Chuo"), ("新日本", "Shin Nihon"),
        ("西日本", "Nishi Nihon"), ("東日本", "Higashi Nihon"), ("辰巳", "Tatsumi"),
        ("日新", "Nisshin"), ("昭和", "Showa"), ("大正", "Taisho"), ("明治", "Meiji"),
        ("興和", "Kowa"), ("栄和", "Eiwa"), ("泰和", "Taiwa"), ("宝", "Takara"),
        ("オーシャン", "Ocean"), ("パシフィック", "Pacific"), ("グローバル", "Global"),
        ("スター", "Star"), ("ブルーオーシャン", "Blue Ocean"), ("ユニオン", "Union"),
        ("サンライズ", "Sunrise"), ("アジア", "Asia"), ("ハーバー", "Harbor"),
        ("オリエント", "Orient"), ("ネプチューン", "Neptune"),
    ),
    places=(
        ("今治", "Imabari"), ("尾道", "Onomichi"), ("神戸", "Kobe"), ("横浜", "Yokohama"),
        ("長崎", "Nagasaki"), ("佐世保", "Sasebo"), ("呉", "Kure"), ("函館", "Hakodate"),
        ("瀬戸内", "Setouchi"), ("因島", "Innoshima"), ("大島", "Oshima"), ("下関", "Shimonoseki"),
        ("門司", "Moji"), ("多度津", "Tadotsu"), ("丸亀", "Marugame"), ("坂出", "Sakaide"),
        ("相生", "Aioi"), ("玉野", "Tamano"), ("舞鶴", "Maizuru"), ("石巻", "Ishinomaki"),
        ("八戸", "Hachinohe"), ("釧路", "Kushiro"), ("四国", "Shikoku"), ("九州", "Kyushu"),
        ("伯方", "Hakata"), ("波方", "Namikata"), ("宇和島", "Uwajima"), ("新居浜", "Niihama"),
        ("鶴見", "Tsurumi"), ("若松", "Wakamatsu"), ("室蘭", "Muroran"), ("小樽", "Otaru"),
        ("新潟", "Niigata"), ("清水", "Shimizu"), ("四日市", "Yokkaichi"), ("徳山", "Tokuyama"),
        ("宇部", "Ube"), ("高松", "Takamatsu"), ("松山", "Matsuyama"), ("大分", "Oita"),
        ("鹿児島", "Kagoshima"), ("境港", "Sakaiminato"), ("敦賀", "Tsuruga"), ("名古屋", "Nagoya"),
        ("大阪", "Osaka"), ("東京", "Tokyo"), ("千葉", "Chiba"), ("鳴門", "Naruto"),
        ("白浜", "Shirahama"), ("大三島", "Omishima"), ("生口", "Ikuchi"), ("弓削", "Yuge"),
        ("岩城", "Iwagi"), ("上島", "Kamijima"), ("伯方島", "Hakatajima"), ("宮窪", "Miyakubo"),
    ),
    # On'yomi of auspicious kanji: 共栄 Kyoei, 光洋 Koyo, 新和 Shinwa, as shipowners name firms.
    syllables=(
        ("栄", "Ei"), ("光", "Ko"), ("洋", "Yo"), ("和", "Wa"), ("共", "Kyo"), ("昭", "Sho"),
        ("明", "Mei"), ("正", "Sei"), ("日", "Nichi"), ("新", "Shin"), ("大", "Dai"), ("東", "To"),
        ("西", "Sai"), ("南", "Nan"), ("北", "Hoku"), ("三", "San"), ("興", "Ko"), ("福", "Fuku"),
        ("泰", "Tai"), ("瑞", "Zui"), ("宝", "Ho"), ("神", "Shin"), ("海", "Kai"), ("誠", "Sei"),
        ("信", "Shin"), ("豊", "Ho"), ("富", "Fu"), ("丸", "Maru"), ("徳", "Toku"), ("進", "Shin"),
        ("盛", "Sei"), ("隆", "Ryu"), ("旭", "Kyoku"), ("高", "Ko"), ("松", "Sho"), ("鶴", "Kaku"),
        ("天", "Ten"), ("秀", "Shu"), ("勝", "Sho"), ("昌", "Sho"), ("晃", "Ko"), ("恒", "Ko"),
        ("協", "Kyo"), ("成", "Sei"), ("伸", "Shin"),
    ),
)  # fmt: skip

KOREAN = CultureSpec(
    key="ko",
    faker_locale="ko_KR",
    locale="en",
    formats={
        "owner": _formats(
            ("{r} Shipping Co., Ltd.", "{k}해운 주식회사"),
            ("{r} Merchant Marine Co., Ltd.", "{k}상선 주식회사"),
            ("{r} Marine Co., Ltd.", "주식회사 {k}마린"),
        ),
        "manager": _formats(
            ("{r} Ship Management Co., Ltd.", "{k}선박관리 주식회사"),
            ("{r} Marine Service Co., Ltd.", "주식회사 {k}해양서비스"),
        ),
        "shipyard": _formats(
            ("{r} Shipbuilding Co., Ltd.", "{k}조선 주식회사"),
            ("{r} Heavy Industries Co., Ltd.", "{k}중공업 주식회사"),
            ("{r} Shipyard Co., Ltd.", "주식회사 {k}조선소"),
        ),
        "design": _formats(
            ("{r} Marine Engineering Co., Ltd.", "{k}마린엔지니어링 주식회사"),
            ("{r} Ship Design Co., Ltd.", "주식회사 {k}선박설계"),
        ),
    },
    words=ENGLISH_WORDS,
    freemail=(("naver.com", 50), ("gmail.com", 30), ("daum.net", 20)),
    syllables=(
        ("대", "Dae"), ("동", "Dong"), ("한", "Han"), ("신", "Shin"), ("성", "Sung"),
        ("진", "Jin"), ("영", "Young"), ("세", "Se"), ("현", "Hyun"), ("우", "Woo"),
        ("태", "Tae"), ("광", "Kwang"), ("해", "Hae"), ("남", "Nam"), ("서", "Seo"),
        ("금", "Keum"), ("창", "Chang"), ("보", "Bo"), ("유", "Yu"), ("삼", "Sam"),
        ("원", "Won"), ("흥", "Heung"), ("국", "Kook"), ("일", "Il"), ("정", "Jung"),
        ("명", "Myung"), ("덕", "Duk"), ("선", "Sun"), ("경", "Kyung"), ("양", "Yang"),
    ),
    places=(
        ("부산", "Busan"), ("인천", "Incheon"), ("목포", "Mokpo"), ("울산", "Ulsan"),
        ("거제", "Geoje"), ("통영", "Tongyeong"), ("광양", "Gwangyang"), ("여수", "Yeosu"),
        ("포항", "Pohang"), ("군산", "Gunsan"), ("평택", "Pyeongtaek"), ("제주", "Jeju"),
    ),
)  # fmt: skip

CHINESE = CultureSpec(
    key="zh-cn",
    faker_locale="zh_CN",
    locale="en",
    formats={
        "owner": _formats(
            ("{r} Shipping Co., Ltd.", "{k}航运有限公司"),
            ("{r} Ocean Shipping Co., Ltd.", "{k}远洋运输有限公司"),
            ("{r} Marine Co., Ltd.", "{k}海运有限公司"),
        ),
        "manager": _formats(
            ("{r} Ship Management Co., Ltd.", "{k}船舶管理有限公司"),
            ("{r} Shipping Agency Co., Ltd.", "{k}船务代理有限公司"),
        ),
        "shipyard": _formats(
            ("{r} Shipbuilding Co., Ltd.", "{k}造船有限公司"),
            ("{r} Heavy Industry Co., Ltd.", "{k}重工有限公司"),
            ("{r} Shipyard Co., Ltd.", "{k}船厂有限公司"),
        ),
        "design": _formats(
            ("{r} Marine Design & Research Institute", "{k}船舶设计研究所"),
            ("{r} Ship Design Co., Ltd.", "{k}船舶设计有限公司"),
        ),
    },
    words=ENGLISH_WORDS,
    freemail=(("163.com", 35), ("qq.com", 35), ("126.com", 10), ("gmail.com", 20)),
    syllables=(
        ("华", "Hua"), ("海", "Hai"), ("远", "Yuan"), ("通", "Tong"), ("安", "An"),
        ("盛", "Sheng"), ("泰", "Tai"), ("丰", "Feng"), ("祥", "Xiang"), ("宏", "Hong"),
        ("隆", "Long"), ("达", "Da"), ("金", "Jin"), ("瑞", "Rui"), ("德", "De"),
        ("永", "Yong"), ("明", "Ming"), ("润", "Run"), ("东", "Dong"), ("南", "Nan"),
        ("中", "Zhong"), ("新", "Xin"), ("恒", "Heng"), ("长", "Chang"), ("兴", "Xing"),
        ("航", "Hang"), ("洋", "Yang"), ("宁", "Ning"), ("鑫", "Xin"), ("嘉", "Jia"),
    ),
    places=(
        ("宁波", "Ningbo"), ("青岛", "Qingdao"), ("大连", "Dalian"), ("厦门", "Xiamen"),
        ("广州", "Guangzhou"), ("天津", "Tianjin"), ("上海", "Shanghai"), ("舟山", "Zhoushan"),
        ("南通", "Nantong"), ("泰州", "Taizhou"), ("江阴", "Jiangyin"), ("威海", "Weihai"),
        ("连云港", "Lianyungang"), ("福州", "Fuzhou"), ("深圳", "Shenzhen"), ("烟台", "Yantai"),
    ),
)  # fmt: skip

TAIWANESE = CultureSpec(
    key="zh-tw",
    faker_locale="zh_TW",
    locale="en",
    formats={
        "owner": _formats(
            ("{r} Marine Corp.", "{k}海運股份有限公司"),
            ("{r} Shipping Corp.", "{k}航運股份有限公司"),
        ),
        "manager": _formats(("{r} Ship Management Co., Ltd.", "{k}船舶管理股份有限公司"),),
        "shipyard": _formats(
            ("{r} Shipbuilding Corp.", "{k}造船股份有限公司"),
            ("{r} Shipyard Co., Ltd.", "{k}造船廠有限公司"),
        ),
        "design": _formats(("{r} Ship Design Co., Ltd.", "{k}船舶設計有限公司"),),
    },
    words=ENGLISH_WORDS,
    syllable_separator=" ",
    syllables=(
        ("華", "Hua"), ("海", "Hai"), ("遠", "Yuan"), ("通", "Tung"), ("安", "An"),
        ("盛", "Sheng"), ("泰", "Tai"), ("豐", "Feng"), ("祥", "Hsiang"), ("宏", "Hung"),
        ("隆", "Lung"), ("達", "Ta"), ("金", "Chin"), ("瑞", "Jui"), ("德", "Te"),
        ("永", "Yung"), ("明", "Ming"), ("東", "Tung"), ("南", "Nan"), ("中", "Chung"),
        ("新", "Hsin"), ("恆", "Heng"), ("長", "Chang"), ("興", "Hsing"), ("航", "Hang"),
        ("洋", "Yang"), ("益", "Yi"), ("信", "Hsin"), ("正", "Cheng"), ("福", "Fu"),
    ),
    places=(
        ("高雄", "Kaohsiung"), ("基隆", "Keelung"), ("台中", "Taichung"), ("花蓮", "Hualien"),
        ("台北", "Taipei"), ("安平", "Anping"), ("澎湖", "Penghu"), ("蘇澳", "Suao"),
    ),
)  # fmt: skip

HONG_KONG = CultureSpec(
    key="zh-hk",
    faker_locale="en_GB",
    locale="en",
    formats={
        "owner": _formats(
            ("{r} Shipping Co. Limited", "{k}船務有限公司"),
            ("{r} Navigation Co. Limited", "{k}航運有限公司"),
        ),
        "manager": _formats(("{r} Ship Management Limited", "{k}船舶管理有限公司"),),
        "shipyard": _formats(("{r} Dockyard Limited", "{k}船塢有限公司"),),
        "design": _formats(("{r} Marine Consultants Limited", "{k}海事顧問有限公司"),),
    },
    words=ENGLISH_WORDS,
    syllable_separator=" ",
    syllables=(
        ("華", "Wah"), ("海", "Hoi"), ("安", "On"), ("盛", "Shing"), ("泰", "Tai"),
        ("豐", "Fung"), ("祥", "Cheung"), ("宏", "Wang"), ("隆", "Lung"), ("達", "Tat"),
        ("金", "Kam"), ("德", "Tak"), ("永", "Wing"), ("明", "Ming"), ("東", "Tung"),
        ("南", "Nam"), ("中", "Chung"), ("新", "Sun"), ("恒", "Hang"), ("興", "Hing"),
        ("昌", "Cheong"), ("利", "Lee"), ("富", "Fu"), ("寶", "Po"), ("順", "Shun"),
        ("發", "Fat"), ("和", "Wo"), ("合", "Hop"), ("萬", "Man"), ("輪", "Lun"),
    ),
    places=(
        ("香港", "Hong Kong"), ("九龍", "Kowloon"), ("維港", "Victoria"), ("青衣", "Tsing Yi"),
        ("荃灣", "Tsuen Wan"), ("筲箕灣", "Shau Kei Wan"),
    ),
    family_names=(
        "Chan", "Wong", "Leung", "Cheung", "Lau", "Lee", "Ng", "Cheng", "Yeung", "Ho", "Tsang",
        "Lam", "Chow", "Fung", "Tang", "Kwok", "Yip", "Lo", "Mak", "Tse",
    ),
)  # fmt: skip

GREEK = CultureSpec(
    key="el",
    faker_locale="el_GR",
    locale="en",
    formats={
        "owner": _formats(
            ("{r} Maritime {legal}", "{k} Ναυτιλιακή Α.Ε."),
            ("{r} Shipping Co. {legal}", "Ναυτιλιακή Εταιρεία {k} Α.Ε."),
            ("{w} {x} Navigation {legal}", None),
            ("{r} Bulk Carriers {legal}", None),
            ("{w} Tankers {legal}", None),
            ("{r} Bros Maritime {legal}", None),
        ),
        "manager": _formats(
            ("{r} Shipmanagement {legal}", "{k} Διαχείριση Πλοίων Α.Ε."),
            ("{w} {x} Shipmanagement {legal}", None),
            ("{r} Maritime Management {legal}", "{k} Ναυτιλιακή Διαχείριση Α.Ε."),
            ("{w} Marine Services {legal}", None),
        ),
        "shipyard": _formats(("{r} Shipyards {legal}", "Ναυπηγεία {k} Α.Ε."),),
        "design": _formats(("{r} Marine Consultants {legal}", "{k} Ναυτιλιακές Μελέτες Ε.Π.Ε."),),
    },
    words=(
        "Aegean", "Ionian", "Poseidon", "Thalassa", "Kyma", "Olympia", "Athena", "Argo",
        "Pegasus", "Hellas", "Delfini", "Nefeli", "Irini", "Galini", "Astra", "Kastro",
    ),
    freemail=(("gmail.com", 50), ("yahoo.gr", 20), ("hotmail.com", 20), ("otenet.gr", 10)),
)  # fmt: skip

_SINGAPORE_SURNAMES = (
    "Tan", "Lim", "Lee", "Ng", "Ong", "Wong", "Goh", "Chua", "Chan", "Koh", "Teo", "Ang", "Yeo",
    "Tay", "Ho", "Low", "Toh", "Sim", "Chong", "Chia", "Rahman", "Kumar", "Pillai", "Ismail",
)  # fmt: skip

SINGAPOREAN = CultureSpec(
    key="sg",
    faker_locale="en_US",
    locale="en",
    formats=_EN_FORMATS,
    words=(
        "Straits", "Orient", "Lion City", "Equator", "Meridian", "Harbourfront", "Pacific",
        "Jade", "Golden Bay", "Temasek", "Sunrise", "Eastern",
    ),
    stems=tuple((name, name) for name in _SINGAPORE_SURNAMES),
    # Hokkien-romanized compounds, as in many Singapore trading names (Hock Seng, Soon Huat).
    syllables=tuple(
        (word, word)
        for word in (
            "Hock", "Seng", "Huat", "Soon", "Guan", "Hin", "Lian", "Chye", "Leong", "Kee", "Hup",
            "Heng", "Joo", "Teck", "Bee", "Hong", "Ann", "Keng", "Sin", "Chuan",
        )
    ),
    syllable_separator=" ",
    family_names=_SINGAPORE_SURNAMES,
)  # fmt: skip


def _latin(
    key: str,
    faker_locale: str,
    formats: dict[OrgType, tuple[str, ...]] | None = None,
    words: tuple[str, ...] = ENGLISH_WORDS,
    *,
    german_umlauts: bool = False,
) -> CultureSpec:
    return CultureSpec(
        key=key,
        locale="en",
        faker_locale=faker_locale,
        formats={kind: _english(*rows) for kind, rows in formats.items()}
        if formats
        else _EN_FORMATS,
        words=words,
        german_umlauts=german_umlauts,
    )


BRITISH = _latin("en-gb", "en_GB")
AMERICAN = _latin("en-us", "en_US")
INDIAN = _latin("en-in", "en_IN")
GERMAN = _latin(
    "de",
    "de_DE",
    {
        "owner": ("Reederei {r} GmbH & Co. KG", "{r} Schiffahrt GmbH & Co. KG",
                  "Reederei {i} {r} GmbH & Co. KG",
                  "{w} Bulkers GmbH", "{r} Shipping GmbH"),
        "manager": ("{r} Bereederung GmbH", "{r} Shipmanagement GmbH & Co. KG"),
        "shipyard": ("{r} Werft GmbH", "Schiffswerft {r} GmbH"),
        "design": ("Ingenieurbüro {r} GmbH", "{r} Schiffbau-Consult GmbH"),
    },
    ("Hanse", "Elbe", "Weser", "Nordsee", "Ostsee", "Jade", "Hammonia", "Nordstern"),
    german_umlauts=True,
)  # fmt: skip
NORWEGIAN = _latin(
    "no",
    "no_NO",
    {
        "owner": ("{r} Rederi AS", "{r} Shipping AS", "{w} Tankers ASA", "Rederiet {r} AS",
                  "{i} {r} Rederi AS", "{i} {r} & Co. AS"),
        "manager": ("{r} Ship Management AS", "{r} Shipping Services AS"),
        "shipyard": ("{r} Verft AS", "{r} Skipsverft AS"),
        "design": ("{r} Ship Design AS", "{r} Marine Engineering AS"),
    },
    ("Nordic", "Fjord", "Viking", "Polar", "Arctic", "Nordkapp", "Stavanger", "Bergen"),
)  # fmt: skip
DANISH = _latin(
    "da",
    "da_DK",
    {
        "owner": ("Rederiet {r} A/S", "{r} Shipping A/S", "{w} Tankers A/S",
                  "Rederiet {i} {r} A/S"),
        "manager": ("{r} Ship Management A/S",),
        "shipyard": ("{r} Værft A/S", "{r} Skibsværft A/S"),
        "design": ("{r} Marine Consult ApS", "{r} Naval Architects ApS"),
    },
    ("Nordic", "Dania", "Kattegat", "Skagen", "Baltic", "Norden"),
)  # fmt: skip
DUTCH = _latin(
    "nl",
    "nl_NL",
    {
        "owner": ("Rederij {r} B.V.", "{r} Shipping B.V.", "{r} Scheepvaart B.V.",
                  "Rederij {i} {r} B.V."),
        "manager": ("{r} Shipmanagement B.V.",),
        "shipyard": ("Scheepswerf {r} B.V.", "{r} Shipyards B.V."),
        "design": ("{r} Maritiem Ingenieursbureau B.V.", "{r} Naval Architects B.V."),
    },
    ("Noordzee", "Holland", "Waal", "Maas", "Zeeland", "Delta"),
)  # fmt: skip
ITALIAN = _latin(
    "it",
    "it_IT",
    {
        "owner": ("{r} Navigazione S.p.A.", "{r} Shipping S.r.l.", "Armatori {r} S.p.A.",
                  "{r} & {r2} Armatori S.r.l."),
        "manager": ("{r} Ship Management S.r.l.",),
        "shipyard": ("Cantiere Navale {r} S.p.A.", "Cantieri {r} S.r.l."),
        "design": ("Studio Tecnico Navale {r} S.r.l.",),
    },
    ("Mediterranea", "Tirrena", "Adriatica", "Liguria", "Sirena", "Stella Maris"),
)  # fmt: skip
TURKISH = _latin(
    "tr",
    "tr_TR",
    {
        "owner": ("{r} Denizcilik A.Ş.", "{r} Deniz Taşımacılığı A.Ş.", "{r} Shipping Co.",
                  "{r} Kardeşler Denizcilik A.Ş.", "{w} {r} Denizcilik A.Ş."),
        "manager": ("{r} Gemi İşletmeciliği A.Ş.",),
        "shipyard": ("{r} Tersanesi A.Ş.", "{r} Gemi İnşa Sanayi A.Ş."),
        "design": ("{r} Gemi Dizayn Ltd. Şti.",),
    },
    ("Marmara", "Karadeniz", "Ege", "Bosphorus", "Anatolia", "Yildiz"),
)  # fmt: skip

# Single-ship companies registered under a flag of convenience, named by their owners.
# They are mostly named after their ship ("Sakura Glory Shipping S.A."); {x} is the second word.
SHIP_NAME_WORDS = (
    "Star", "Glory", "Spirit", "Wave", "Crystal", "Pearl", "Hope", "Light", "Wind", "Bright",
    "Fortune", "Harmony", "Crown", "Venture", "Dream", "Ace", "Grace", "Lotus", "Breeze", "Pioneer",
)  # fmt: skip
FLAG_FORMATS: dict[OrgType, tuple[CompanyFormat, ...]] = {
    "owner": _english(
        "{w} {x} Shipping {legal}", "{w} {x} Navigation {legal}", "{w} {x} Maritime {legal}",
        "{r} Line {legal}", "{w} {x} Carriers {legal}", "{w} Marine {legal}",
    ),
    "manager": _english("{w} Ship Management {legal}", "{r} Marine Services {legal}"),
    "shipyard": _english("{w} Ship Repair {legal}"),
    "design": _english("{w} Marine Consultants {legal}"),
}  # fmt: skip

CULTURES: dict[str, CultureSpec] = {
    culture.key: culture
    for culture in (
        JAPANESE, KOREAN, CHINESE, TAIWANESE, HONG_KONG, GREEK, SINGAPOREAN, BRITISH, AMERICAN,
        INDIAN,
        GERMAN, NORWEGIAN, DANISH, DUTCH, ITALIAN, TURKISH,
    )
}  # fmt: skip
