-- de: Die Ereignisse laufender Teilnahmen sind vollständig und laufen noch
-- en: The events of running participations are complete and still running
-- marts.laufend_ereignisse holds, for each participation in it, every event
-- marts.ereignisse gives that participation, once, and only participations not yet left.
with

kept as (
    select teilnahme_id, count(*) as n from marts.laufend_ereignisse group by 1
),

owned as (
    select teilnahme_id, count(*) as n
    from marts.ereignisse
    where teilnahme_id in (select teilnahme_id from kept)
    group by 1
)

select k.teilnahme_id, k.n as gehalten, o.n as zugeordnet, t.aktiv
from kept as k
left join owned as o using (teilnahme_id)
left join marts.teilnahmen as t using (teilnahme_id)
where o.n is distinct from k.n or not coalesce(t.aktiv, false)
