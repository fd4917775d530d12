"""The demo service catalogue: web services of a classification society, and who uses them how.

Modelled on the services a society offers its customers online (survey status and planning,
certificates, plan approval, rules, fees, technical information, a PrimeShip-style maintenance
system...). `requires_preregistration` marks the "Service List for Pre-registration": the
services that stop working for an organization that has not pre-registered its people.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OrgType = Literal["owner", "manager", "shipyard", "design"]
ORG_TYPES: tuple[OrgType, ...] = ("owner", "manager", "shipyard", "design")


@dataclass(frozen=True)
class ServiceProfile:
    code: str
    name: str
    name_ja: str
    requires_preregistration: bool
    # How likely each kind of organization subscribes, in the order of ORG_TYPES (0 = never).
    weights: tuple[int, int, int, int]
    # In a month, the chance a subscriber uses the service at all, and the mean number of uses
    # then for an organization of typical size (big fleets use more).
    monthly_probability: float
    mean_uses: float

    def weight_for(self, org_type: OrgType) -> int:
        return self.weights[ORG_TYPES.index(org_type)]


# fmt: off
SERVICES: tuple[ServiceProfile, ...] = tuple(ServiceProfile(*row) for row in (
    # code, English name, Japanese name, pre-registration,
    #   weights (owner, manager, shipyard, design), monthly probability, mean uses
    ("SURVEY-STATUS", "Ship Survey Status", "船舶検査状況照会", True,
        (10, 10, 2, 0), 0.80, 9.0),
    ("SURVEY-PLANNING", "Survey Planning and Application", "検査計画・検査申込", True,
        (7, 9, 3, 0), 0.50, 3.0),
    ("CERTIFICATES", "Class and Statutory Certificates", "船級・法定証書", True,
        (8, 8, 4, 0), 0.45, 4.0),
    ("E-CERTIFICATES", "e-Certificate Download and Verification",
        "電子証書ダウンロード・真正性確認", False,
        (5, 6, 2, 0), 0.35, 5.0),
    ("PLAN-APPROVAL", "Plan Approval (Drawing Submission)", "図面承認申請", True,
        (1, 1, 10, 10), 0.65, 12.0),
    ("RULES-GUIDANCE", "Rules and Guidance Download", "規則・ガイダンス ダウンロード", False,
        (4, 4, 8, 9), 0.40, 6.0),
    ("FEES-INVOICES", "Fee Estimates and Invoices", "料金見積・請求書照会", True,
        (5, 5, 6, 3), 0.55, 2.0),
    ("TECHNICAL-INFO", "Technical Information and Reports", "技術情報・テクニカルレポート", False,
        (2, 2, 4, 6), 0.25, 3.0),
    ("MAINTENANCE", "Ship Maintenance Management (PrimeShip-style)", "船舶保守管理システム", True,
        (4, 7, 0, 0), 0.75, 25.0),
    ("HULL-RECORDS", "Hull Inspection and Thickness Measurement Records",
        "船体検査・板厚計測記録", True,
        (3, 4, 1, 1), 0.20, 2.0),
    ("AUDITS", "ISM / ISPS / MLC Audit Application", "ISM・ISPS・MLC審査申込", True,
        (3, 6, 0, 0), 0.15, 1.5),
    ("GHG-REPORTING", "GHG and Fuel Consumption Reporting (IMO DCS, EU MRV, CII)",
        "GHG・燃料消費実績報告（IMO DCS・EU MRV・CII）", True,
        (4, 6, 0, 0), 0.25, 4.0),
    ("REGISTER-OF-SHIPS", "Register of Ships Search", "船名録検索", False,
        (3, 3, 2, 2), 0.30, 6.0),
    ("TRAINING", "Training and Seminar Registration", "研修・セミナー申込", False,
        (1, 2, 2, 3), 0.08, 1.5),
))
# fmt: on

SERVICES_BY_CODE = {service.code: service for service in SERVICES}
