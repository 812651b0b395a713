"""Who may see what: roles, the signed-in person, and the rules the query layer enforces.

Participants' data are social data (§ 35 SGB I). The rules live here and in
``kohorte.read.queries.run``, not in the pages: a page that forgets to hide something still
cannot fetch it.

- ``teamleitung``: everything in the programme, the audit log and quarantined files.
- ``coach``: participant-level data of their own caseload only; aggregates for all.
- ``analyse``: pseudonymised data (and the SQL sandbox); no search by customer number.
- ``leitung`` (management): aggregates only.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("teamleitung", "coach", "analyse", "leitung")

# What a named query returns (its ``-- access:`` header line), and who may run it.
AGGREGATE = "aggregate"  # protected counts and rates
PARTICIPANT = "participant"  # one row per (pseudonymised) participation or event
STATUS = "status"  # load log, data checks: no personal data
AUDIT = "audit"  # the audit log
STAFF = "staff"  # outcomes per coach: monitoring of employees (staff council)
SQL = "sql"  # ad-hoc SQL in the analysts' sandbox
CASELOAD = "caseload"  # a coach's own start page: her running participations
IMPACT = "impact"  # the impact estimate against the comparison group
REPORTS = "reports"  # the PDF reports for the Geschäftsführung: kept, downloaded, made

ALLOWED = {
    "teamleitung": {AGGREGATE, PARTICIPANT, STATUS, AUDIT, STAFF, SQL, IMPACT, REPORTS},
    "coach": {AGGREGATE, PARTICIPANT, STATUS, CASELOAD},
    "analyse": {AGGREGATE, PARTICIPANT, STATUS, SQL, IMPACT},
    "leitung": {AGGREGATE, STATUS, IMPACT, REPORTS},
}


class AccessDenied(PermissionError):
    """A request outside the signed-in person's scope."""


@dataclass(frozen=True)
class Principal:
    """The signed-in person: name, role and, for a coach, the caseload's coach name."""

    name: str
    role: str
    coach: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"Unbekannte Rolle: {self.role}")
        if self.role == "coach" and not self.coach:
            raise ValueError("Eine Coach-Rolle braucht den Namen der eigenen Fallzuständigkeit")

    @property
    def reach(self) -> Principal:
        """What a result may depend on: the role and, for a coach, the caseload, not who
        asks. Results cached under it are shared by everyone with the same reach, so a
        published version is computed once per reach, not once per person signing in."""
        return Principal(name="", role=self.role, coach=self.coach)

    def may(self, access: str) -> bool:
        """May this person run a query of that access class?"""
        return access in ALLOWED[self.role]

    def require(self, access: str) -> None:
        if not self.may(access):
            raise AccessDenied(f"Rolle {self.role} darf {access} nicht sehen")

    @property
    def finds_by_customer_number(self) -> bool:
        """Typing a kundennummer re-identifies: only who works with the person may."""
        return self.role in ("teamleitung", "coach")

    @property
    def sees_attention_list(self) -> bool:
        """The list of who needs attention today is a working list of people: for who
        works with them (the team lead; a coach for her own caseload)."""
        return self.role in ("teamleitung", "coach")

    @property
    def sees_quarantine(self) -> bool:
        """Quarantined originals and their reports hold lines in clear."""
        return self.role == "teamleitung"

    @property
    def sees_coach_pages(self) -> bool:
        """Per-coach outcomes monitor employees: team lead only (and only if switched on)."""
        return self.role == "teamleitung"

    @property
    def hidden_columns(self) -> frozenset[str]:
        """Columns this role never receives: analysts work on pseudonymised data without
        staff names (as in their analyst file)."""
        return frozenset({"coach"}) if self.role in ("analyse", "leitung") else frozenset()

    def may_filter_staff(self, value: str, coach_views: bool) -> bool:
        """May this person select figures of one employee (a dimension marked ``staff``)?
        Only where the staff council's consent is configured (``coach_views``) and for a
        team lead; a coach always for her own caseload."""
        if self.role == "coach" and value == self.coach:
            return True
        return coach_views and self.sees_coach_pages

    def gate(self, filters, coach_views: bool) -> None:
        """Refuse filters that select a colleague's figures without consent."""
        from kohorte.define.dimensions import DIMENSIONS

        for dimension in DIMENSIONS:
            value = getattr(filters, dimension.name)
            staff = dimension.metadata["staff"] and value is not None
            if staff and not self.may_filter_staff(value, coach_views):
                raise AccessDenied(
                    "Auswertungen je Coach sind nur mit Zustimmung des Personalrats "
                    "freigeschaltet (KOHORTE_COACH_VIEWS)"
                )


def principal_from_claims(claims: dict, settings) -> Principal | None:
    """The principal for an OpenID Connect ID token's claims (``st.user``), or None when
    the token carries no Kohorte role. The roles claim may be a list or a single string
    (Keycloak: client roles mapped to ``roles``; Entra ID: app roles in ``roles``)."""
    values = claims.get(settings.oidc_role_claim) or []
    if isinstance(values, str):
        values = [values]
    mapping = dict(settings.oidc_role_map)
    granted = {mapping[value] for value in values if value in mapping}
    for role in ROLES:  # one role per person; the first in ROLES order wins
        if role in granted:
            name = str(claims.get("email") or claims.get("preferred_username") or claims["sub"])
            coach = claims.get(settings.oidc_coach_claim) if role == "coach" else None
            if role == "coach" and not coach:
                return None
            return Principal(name, role, coach)
    return None
