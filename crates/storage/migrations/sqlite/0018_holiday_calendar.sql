-- 行政程序法 §48: the official office calendar (辦公日曆表) of each year, loaded by the
-- administrator from the 人事行政總處's file. One row per year; a year loaded again replaces
-- the row (the audit trail keeps each load). `days` is the year in the format of the seed
-- calendar (domain/seed/tw-gov-holidays.json).
CREATE TABLE holiday_calendar_years (
    year        INTEGER PRIMARY KEY,
    days        TEXT NOT NULL,
    loaded_at   TEXT NOT NULL,                       -- RFC 3339 timestamp
    loaded_by   INTEGER REFERENCES persons(id)       -- NULL: the server's operator (CLI)
) STRICT;
