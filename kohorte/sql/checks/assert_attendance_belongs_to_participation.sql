-- severity: warn
-- de: Jede Anwesenheit gehört zu einer Teilnahme
-- en: Every attendance belongs to a participation
-- Attendance of a person with no participation whose window holds that day (the rule of
-- marts.fenster, applied once in marts.ereignisse): usually a missing or late
-- participants' delivery. Reported on the Datenstand page, excluded from the KPIs.
select a.pid, a.datum, a.delivery_id, a.line
from staging.stg_anwesenheit as a
semi join marts.ereignisse as e
    on e.pid = a.pid and e.datum = a.datum  -- a session's key: one per person and day
    and e.quelle = 'anwesenheit' and e.teilnahme_id is null
