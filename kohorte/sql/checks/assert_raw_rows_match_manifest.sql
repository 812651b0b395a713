-- de: Keine Zeile verloren oder doppelt gezählt: jede Lieferung hat so viele Zeilen wie angenommen
-- en: No line lost or counted twice: every delivery holds the rows accepted from it
-- Nothing lost, nothing counted twice: every delivery's rows in the raw tables equal the
-- rows the manifest says were accepted, less those retention deleted.
with

raw_rows as (
    -- one count per kind of the contract (kohorte.build.warehouse.template_values)
    {raw_rows_per_delivery}
)

select
    d.delivery_id,
    d.file_name,
    d.rows_accepted,
    d.rows_deleted,
    coalesce(r.rows_in_raw, 0) as rows_in_raw
from meta.deliveries as d
full outer join raw_rows as r on r.delivery_id = d.delivery_id
where coalesce(d.rows_accepted - d.rows_deleted, -1) <> coalesce(r.rows_in_raw, 0)
