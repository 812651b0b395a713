-- de: Die Ereignisse laufender Teilnahmen sind vollständig
-- en: The events of running participations are complete
-- marts.laufend_ereignisse holds every event marts.ereignisse gives a participation
-- running on the as-of date (marts.laeuft), once, and no event of any other.
with

kept as (
    select teilnahme_id, count(*) as n from marts.laufend_ereignisse group by 1
),

owned as (
    select e.teilnahme_id, count(*) as n
    from marts.ereignisse as e
    inner join marts.teilnahmen as t using (teilnahme_id)
    cross join meta.build as b
    where marts.laeuft(t.eintritt, t.austritt, b.as_of)
    group by 1
)

select teilnahme_id, k.n as gehalten, o.n as zugeordnet
from kept as k
full outer join owned as o using (teilnahme_id)
where o.n is distinct from k.n
