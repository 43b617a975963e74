-- The table the cluster flows write: one row per run of the ticker flow, by slot second.
CREATE TABLE ticks (slot BIGINT NOT NULL, node TEXT, run TEXT, trigger TEXT);
