-- The ownership rule of events, in one place: for each participation and kind of event,
-- the days whose events belong to it. Every mart that attributes a session, activity,
-- outcome or follow-up to a participation joins this table (the events mart does it
-- once for all of them), so an event belongs to at most one participation and any
-- partition of the participations adds up to the whole programme.
--
-- - sessions and activities: entry to exit (a running participation: to the as-of date);
-- - outcomes: entry to 28 days after exit (the ESF "upon leaving" window);
-- - follow-ups: 150 to 210 days after exit (the one nearest to 6 calendar months counts);
-- - a person's next entry ends every window of the previous participation the day before;
-- - nothing after the as-of date belongs to any participation: every KPI sees the same days.
--
-- aenderbar_bis: the last as-of date at which a participation's facts can still change
-- (the end of its follow-up window, the latest bound above; null while it runs). The
-- incremental build recomputes the persons with such a participation every night.
-- incremental: per person
create or replace table marts.fenster as
with

teilnahmen as (
    select * from staging.stg_teilnehmende
),

build as (
    select as_of from meta.build
),

ordered as (
    select
        t.pid || '-' || strftime(t.eintritt, '%Y%m%d') as teilnahme_id,
        t.pid,
        t.eintritt,
        t.austritt,
        lead(t.eintritt) over (partition by t.pid order by t.eintritt) as naechster_eintritt,
        (t.austritt + interval 210 day)::date as aenderbar_bis  -- the follow-up window's end
    from teilnahmen as t
),

final as (
    select
        o.teilnahme_id,
        o.pid,
        o.eintritt,
        o.austritt,
        o.naechster_eintritt,
        -- least() skips nulls: an open participation or a last one has no bound of its own
        least(o.austritt, b.as_of, o.naechster_eintritt - 1)::date as termine_bis,
        least(o.austritt + interval 28 day, b.as_of, o.naechster_eintritt - 1)::date
            as ergebnisse_bis,
        (o.austritt + interval 150 day)::date as verbleib_von,
        least(o.aenderbar_bis, b.as_of, o.naechster_eintritt - 1)::date as verbleib_bis,
        o.aenderbar_bis
    from ordered as o
    cross join build as b
)

select * from final
