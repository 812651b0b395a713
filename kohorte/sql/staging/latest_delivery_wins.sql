-- Template, rendered once per kind of delivery as staging.stg_<kind> by kohorte/build/warehouse.py:
-- {kind} is the kind's name and {key} its natural key from kohorte/define/contract.py (with the
-- pseudonym pid in place of kundennummer), so the key is defined in one place only.
-- Corrections: for each natural key the row of the latest delivery wins; if that row is a
-- retraction (storno), the key has no row at all.
-- {source_filter} is empty for a full build; an incremental one restricts the source to the
-- keys delivered or changed tonight (and replaces only their rows).
create or replace table staging.stg_{kind} as
with

source as (
    select * from raw.{kind}{source_filter}
),

ranked as (
    select
        *,
        row_number() over (
            partition by {key}
            order by delivery_id desc, line desc
        ) as recency
    from source
),

final as (
    select * exclude (recency, storno)
    from ranked
    where recency = 1 and not coalesce(storno, false)
)

select * from final
