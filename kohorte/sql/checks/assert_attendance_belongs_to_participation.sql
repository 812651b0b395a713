-- severity: warn
-- de: Jede Anwesenheit gehört zu einer Teilnahme
-- en: Every attendance belongs to a participation
-- Attendance of a person with no participation whose window holds that day (the rule of
-- marts.fenster): usually a missing or late participants' delivery. Reported on the
-- Datenstand page, excluded from the KPIs.
select a.pid, a.datum, a.delivery_id, a.line
from staging.stg_anwesenheit as a
where not exists (
    select 1
    from marts.fenster as f
    where f.pid = a.pid and a.datum between f.eintritt and f.termine_bis
)
