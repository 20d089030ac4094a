-- 0004: a practical rubric item may assess one competency unit (the unit's task), so results
-- and pass rates can be shown per unit. Items of catalogues published before stay unit-less.
ALTER TABLE rubric_item ADD COLUMN unit_id TEXT REFERENCES competency_unit (id);
