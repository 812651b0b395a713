-- de: Keine Tabelle enthält eine Kundennummer
-- en: No table holds a customer number
-- Privacy by design: no table or view in the warehouse has a kundennummer column.
select table_schema, table_name, column_name
from information_schema.columns
where lower(column_name) like '%kundennummer%'
