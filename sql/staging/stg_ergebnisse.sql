-- One row per person, day and kind of outcome, latest delivery wins.
create or replace view staging.stg_ergebnisse as
with

source as (
    select * from raw.ergebnisse
),

ranked as (
    -- corrections: for each natural key the row of the latest delivery wins
    select
        *,
        row_number() over (
            partition by pid, datum, art
            order by delivery_id desc, line desc
        ) as recency
    from source
),

final as (
    select * exclude (recency)
    from ranked
    where recency = 1
)

select * from final
