-- severity: warn
-- Attendance of a person with no participation covering that day: usually a missing or
-- late participants' delivery. Reported on the Datenstand page, excluded from the KPIs.
select a.pid, a.datum, a.delivery_id, a.line
from staging.stg_anwesenheit as a
where not exists (
    select 1
    from staging.stg_teilnehmende as t
    where t.pid = a.pid
        and a.datum between t.eintritt and coalesce(t.austritt, a.datum)
)
