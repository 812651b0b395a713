-- The events of the participations running on the as-of date (marts.laeuft): the
-- attention list and the caseload (heute__laufend) read these few rows (240.000 of 21
-- million at national scale) instead of every event of the history. Computed in full
-- every night: the as-of date moves.
create or replace table marts.laufend_ereignisse as
select e.*
from marts.ereignisse as e
inner join marts.teilnahmen as t using (teilnahme_id)
cross join meta.build as b
where marts.laeuft(t.eintritt, t.austritt, b.as_of)
order by e.teilnahme_id, e.datum;
