-- de: Jede Teilnahme kommt genau einmal vor
-- en: Every participation appears exactly once
-- The participation mart has exactly one row per participation.
select teilnahme_id, count(*) as n
from marts.teilnahmen
group by teilnahme_id
having count(*) > 1
