-- ripple_backup 0.1.0 install script
\echo Use "CREATE EXTENSION ripple_backup" to load this file. \quit
