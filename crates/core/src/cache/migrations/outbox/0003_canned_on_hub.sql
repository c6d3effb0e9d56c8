-- Canned responses now live on the hub and are shared through it; the console's own
-- table (four built-in examples no console could edit) goes.

DROP TABLE canned;
