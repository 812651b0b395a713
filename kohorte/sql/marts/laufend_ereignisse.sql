-- Running on the as-of date: entered by then and not yet left (an exit on the as-of date
-- still runs). The rule is this macro, for the attention list and the caseload
-- (heute__laufend) and for the table below.
create or replace macro marts.laeuft(eintritt, austritt, as_of) as
    eintritt <= as_of and (austritt is null or austritt >= as_of);

-- The events of the participations running on the as-of date: heute__laufend reads these
-- few rows (about 300.000 of 21 million at national scale) instead of every event of the
-- history. Computed in full every night: the as-of date moves.
create or replace table marts.laufend_ereignisse as
select e.*
from marts.ereignisse as e
inner join marts.teilnahmen as t using (teilnahme_id)
cross join meta.build as b
where marts.laeuft(t.eintritt, t.austritt, b.as_of)
order by e.teilnahme_id, e.datum;
