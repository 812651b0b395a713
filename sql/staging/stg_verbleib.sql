-- One follow-up status per person and reference date, latest delivery wins.
create or replace view staging.stg_verbleib as
with

source as (
    select * from raw.verbleib
),

ranked as (
    -- corrections: for each natural key the row of the latest delivery wins
    select
        *,
        row_number() over (
            partition by pid, stichtag
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
