"""Policy from rule files (rules/*.yaml): which rule an item falls under, when it is due,
who is reminded, and how an overdue item climbs the organisation.

Files are read and validated together; any problem in any file means nothing is
loaded and every problem is reported with its file and line. A loaded Policy carries
a version (hash of the files' content) so items remember which policy planned them.

    schema.py  the rule file's words and JSON Schema (`schema_document`)
    model.py   Policy, Rule, Match, LadderStep, Campaign, Obligation, StageReportSpec, …
    build.py   texts → Policy (`policy_from_sources`), with every problem collected
"""

from engine.policy.build import (
    build_policy,
    policy_from_sources,
    unit_problems,
    validate_expression,
    validate_offset,
)
from engine.policy.model import (
    MATCH_KEYS,
    Campaign,
    ExtensionRules,
    LadderStep,
    Match,
    Obligation,
    Phase,
    Policy,
    Rule,
    StageReportSpec,
    UnitPhrase,
    Where,
    check_category,
    fraction,
    version_of,
)
from engine.policy.schema import (
    ACTIONS,
    DEFAULT_CATEGORIES,
    EXTENSION_APPROVERS,
    RECIPIENT_ROLES,
    REPORT_PERIODS,
    REPORT_RECIPIENTS,
    SCHEMA,
    UNIT_PHRASE_MEANINGS,
    schema_document,
)

__all__ = [
    "ACTIONS", "DEFAULT_CATEGORIES", "EXTENSION_APPROVERS", "MATCH_KEYS", "RECIPIENT_ROLES", "REPORT_PERIODS",
    "REPORT_RECIPIENTS", "SCHEMA", "UNIT_PHRASE_MEANINGS", "Campaign", "ExtensionRules", "LadderStep", "Match",
    "Obligation", "Phase", "Policy", "Rule", "StageReportSpec", "UnitPhrase", "Where",
    "build_policy", "check_category", "fraction", "policy_from_sources", "schema_document",
    "unit_problems", "validate_expression", "validate_offset", "version_of",
]
