-- de: Die Wirkungsschätzung vergleicht keine Teilnehmende mit sich selbst und zählt jede Teilnahme einmal
-- en: The impact estimate compares no participant with herself and counts each participation once
-- A comparison person who is also a participant (same pseudonym) is left out of the
-- comparison group, and each participation with a due follow-up appears once.
select 'vergleich' as gruppe, pid, stichtag
from marts.wirkung_personen
where gruppe = 'vergleich' and pid in (select pid from marts.teilnahmen)

union all

select gruppe, pid, stichtag
from marts.wirkung_personen
where gruppe = 'teilnahme'
group by gruppe, pid, stichtag
having count(*) > 1
