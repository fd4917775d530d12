"""Where the demo customers are: the countries of a classification society's clientele.

Japan carries about 40 % of the organizations (the society's home market); the rest are the
other shipping, ship-management and shipbuilding centres, plus the flags of convenience
(Panama, Liberia, Marshall Islands) whose single-ship companies are owned from Japan, Greece
and elsewhere — which is why those countries list several cultures.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.seed.catalog import ORG_TYPES, OrgType


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2
    share: int  # relative weight among all organizations
    cultures: tuple[tuple[str, int], ...]  # who owns companies here, weighted
    legal_forms: tuple[str, ...]
    tlds: tuple[tuple[str, int], ...]
    calling_code: str
    phone_formats: tuple[str, ...]  # '#' is a digit
    org_types: tuple[int, int, int, int]  # weights in the order of ORG_TYPES
    flag_of_convenience: bool = False

    def org_type_weights(self) -> tuple[tuple[OrgType, int], ...]:
        return tuple(zip(ORG_TYPES, self.org_types, strict=True))


# fmt: off
COUNTRIES: tuple[Country, ...] = (
    Country("JP", 40, (("ja", 1),), ("Co., Ltd.",), (("co.jp", 80), ("com", 15), ("jp", 5)),
            "81", ("3-####-####", "6-####-####", "45-###-####", "78-###-####", "82-###-####",
                   "898-##-####", "848-##-####", "92-###-####", "95-###-####", "52-###-####"),
            (40, 20, 25, 15)),
    Country("SG", 7, (("sg", 1),), ("Pte. Ltd.",), (("com.sg", 60), ("com", 40)),
            "65", ("6###-####",), (35, 45, 10, 10)),
    Country("GR", 7, (("el", 1),), ("S.A.", "Inc."), (("gr", 60), ("com", 40)),
            "30", ("21#-###-####",), (50, 45, 0, 5)),
    Country("KR", 6, (("ko", 1),), ("Co., Ltd.",), (("co.kr", 70), ("com", 30)),
            "82", ("51-###-####", "2-####-####", "55-###-####"), (35, 15, 35, 15)),
    Country("CN", 6, (("zh-cn", 1),), ("Co., Ltd.",), (("com.cn", 50), ("com", 40), ("cn", 10)),
            "86", ("21-####-####", "532-####-####", "411-####-####", "574-####-####"),
            (35, 15, 35, 15)),
    Country("HK", 4, (("zh-hk", 1),), ("Limited",), (("com.hk", 60), ("com", 40)),
            "852", ("####-####",), (55, 40, 0, 5)),
    Country("PA", 4, (("ja", 45), ("el", 30), ("en-us", 25)), ("S.A.", "Inc."),
            (("com", 85), ("com.pa", 15)), "507", ("###-####",), (95, 5, 0, 0),
            flag_of_convenience=True),
    Country("NO", 3, (("no", 1),), ("AS",), (("no", 80), ("com", 20)),
            "47", ("## ## ## ##",), (40, 20, 15, 25)),
    Country("DE", 3, (("de", 1),), ("GmbH",), (("de", 85), ("com", 15)),
            "49", ("40 ### ####", "421 ### ####"), (50, 25, 10, 15)),
    Country("GB", 3, (("en-gb", 1),), ("Ltd",), (("co.uk", 70), ("com", 30)),
            "44", ("20 #### ####",), (30, 35, 0, 35)),
    Country("LR", 3, (("el", 45), ("ja", 25), ("en-us", 30)), ("Inc.", "Corp."), (("com", 1),),
            "231", ("## ### ####",), (95, 5, 0, 0), flag_of_convenience=True),
    Country("TW", 3, (("zh-tw", 1),), ("Corp.",), (("com.tw", 70), ("com", 30)),
            "886", ("2-####-####", "7-###-####"), (50, 15, 20, 15)),
    Country("US", 2, (("en-us", 1),), ("Inc.", "LLC"), (("com", 1),),
            "1", ("212-###-####", "713-###-####", "203-###-####"), (40, 20, 20, 20)),
    Country("IN", 2, (("en-in", 1),), ("Pvt. Ltd.",), (("co.in", 40), ("in", 20), ("com", 40)),
            "91", ("22-####-####",), (40, 35, 15, 10)),
    Country("MH", 2, (("el", 50), ("ja", 20), ("en-us", 30)), ("Inc.", "Corp."), (("com", 1),),
            "692", ("###-####",), (95, 5, 0, 0), flag_of_convenience=True),
    Country("DK", 1, (("da", 1),), ("A/S",), (("dk", 85), ("com", 15)),
            "45", ("## ## ## ##",), (55, 15, 10, 20)),
    Country("NL", 1, (("nl", 1),), ("B.V.",), (("nl", 85), ("com", 15)),
            "31", ("10 ### ####",), (45, 15, 25, 15)),
    Country("IT", 1, (("it", 1),), ("S.p.A.",), (("it", 85), ("com", 15)),
            "39", ("010 ### ####",), (50, 15, 25, 10)),
    Country("TR", 1, (("tr", 1),), ("A.Ş.",), (("com.tr", 70), ("com", 30)),
            "90", ("216 ### ## ##",), (50, 15, 30, 5)),
    Country("CY", 1, (("el", 1),), ("Ltd",), (("com.cy", 60), ("com", 40)),
            "357", ("25 ######",), (45, 50, 0, 5)),
)
# fmt: on
