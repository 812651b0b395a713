-- Monthly entries, exits and participants at month end, from $start (inclusive).
select
    monat,
    eintritte,
    austritte,
    aktive_am_monatsende,
    case when stunden_geplant > 0 then stunden_anwesend / stunden_geplant end
        as anwesenheitsquote
from marts.monatszahlen
where monat >= $start
order by monat
