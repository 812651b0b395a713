-- access: participant
-- The running participations of the selection today (for a coach: her own), one row per
-- person, with the measures and flags of the attention rules (kohorte/define/attention.py),
-- the most urgent first and the unflagged last: the attention list is its flagged rows, a
-- coach's caseload all of them. Measures, flags and urgency are generated from the rules;
-- the thresholds travel as parameters ($<rule>_<name>, $aktiv_<rule>), and so does the
-- programme's length in weeks ($programm_wochen).
with

build as (
    select as_of, session_hours::double as session_hours from meta.build
),

-- a person's latest running participation: entered by the as-of date, not yet left; it
-- ends on its exit date once one is delivered, else after the programme's weeks
laufend as (
    select
        t.teilnahme_id,
        t.pid,
        t.coach,
        t.eintritt,
        t.anwesenheit_anteil,
        t.bewerbungen,
        coalesce(t.austritt, (t.eintritt + ($programm_wochen * 7 - 1)::integer)::date)
            as geplantes_ende
    from marts.auswahl({filter_args}) as t
    cross join build as b
    where marts.laeuft(t.eintritt, t.austritt, b.as_of)
    qualify row_number() over (partition by t.pid order by t.eintritt desc) = 1
),

-- the events each of them owns (marts.fenster's rule; nothing after the as-of date), from
-- those the build keeps for the participations running on the as-of date
ereignisse as (
    select e.* from marts.laufend_ereignisse as e inner join laufend using (teilnahme_id)
),

lage as (
    select
        l.teilnahme_id,
        any_value(l.pid) as pid,
        any_value(l.coach) as coach,
        any_value(l.eintritt) as eintritt,
        any_value(l.geplantes_ende) as geplantes_ende,
        any_value(b.as_of) as as_of,
        least($programm_wochen, datediff('day', any_value(l.eintritt), any_value(b.as_of)) // 7 + 1)
            as woche,
        max(e.datum) filter (where e.quelle = 'anwesenheit' and e.art = 'anwesend')
            as letzter_termin,
        count(e.datum) filter (where e.quelle = 'ergebnis') as ergebnisse,
        -- the latest outcome (work, internship, further training): the next step taken;
        -- of two on one day the first by name (arg_min over a key: an ordered aggregate
        -- sorted each group and cost a fifth of this query at national scale)
        arg_min(e.art, {'neu': -epoch(e.datum), 'art': e.art})
            filter (where e.quelle = 'ergebnis') as naechster_schritt,
        any_value(l.anwesenheit_anteil) as anwesenheit_anteil,
        any_value(l.bewerbungen) as bewerbungen,
        {attention_measures}
    from laufend as l
    cross join build as b
    left join ereignisse as e on e.teilnahme_id = l.teilnahme_id
    group by l.teilnahme_id
),

flagged as (
    select
        *,
        {attention_flags}
    from lage
),

final as (
    select
        *,
        {attention_urgency} as dringlichkeit,
        {attention_count} as hinweise
    from flagged
)

select * exclude (teilnahme_id)
from final
order by dringlichkeit nulls last, hinweise desc, letzter_termin nulls first, pid
