# 047_verify_counts.pl — a restore-level verify counts exactly for every database
# shape: 5,000 tables (the count no longer travels in one argument of psql, which
# execve refuses beyond 128 KiB), table inheritance (a parent's rows are counted
# without its children's: FROM ONLY) and declarative partitioning, two levels deep
# (pg_dump writes the rows of each leaf partition; the metadata names the leaves,
# not the partitioned parents).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;
use Time::HiRes qw(time);

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('counts', destination => "file://$dir",
	conf => "ripple_backup.verify_after_backup = off\nmax_locks_per_transaction = 256\n");

sub verify_row {
	my ($id) = @_;
	return $node->safe_psql('postgres',
		"SELECT verify_status || '|' || coalesce(verify_level, '-') || '|' || coalesce(verify_error, '<NULL>')"
		  . " FROM ripple_backup.backups WHERE id = $id");
}

sub metadata_counts {
	my ($id) = @_;
	my $row = RippleTest::Cluster::backup_row($node, $id);
	my $json = slurp_file(substr($row->{location}, length('file://')) . '.metadata.json');
	my ($body) = $json =~ /"table_counts": \{(.*?)\}/s;
	my %c = ($body // '') =~ /"([^"]+)": (\d+)/g;
	return \%c;
}

# --- inheritance and partitioning -------------------------------------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE shapes');
$node->safe_psql('shapes', q{
CREATE TABLE parent (v int);
CREATE TABLE child (w int) INHERITS (parent);
INSERT INTO parent VALUES (1);
INSERT INTO child VALUES (2, 2), (3, 3);
CREATE TABLE measures (at int, v int) PARTITION BY RANGE (at);
CREATE TABLE measures_low PARTITION OF measures FOR VALUES FROM (0) TO (100);
CREATE TABLE measures_high PARTITION OF measures FOR VALUES FROM (100) TO (1000) PARTITION BY LIST (v);
CREATE TABLE measures_high_even PARTITION OF measures_high FOR VALUES IN (0, 2, 4);
CREATE TABLE measures_high_rest PARTITION OF measures_high DEFAULT;
INSERT INTO measures SELECT g, g % 5 FROM generate_series(1, 500) g;
});
my $sid = RippleTest::Cluster::backup_now($node, 'shapes');
is(RippleTest::Cluster::wait_backup($node, $sid), 'succeeded', 'backup of the inheritance/partitioning database');
my $mc = metadata_counts($sid);
is_deeply($mc, {
		'public.parent' => 1, 'public.child' => 2,
		'public.measures_low' => 99, 'public.measures_high_even' => 241, 'public.measures_high_rest' => 160 },
	'the metadata counts the parent without its children and names the leaf partitions only')
  or diag explain $mc;
is($node->safe_psql('postgres', "SELECT ripple_backup_verify($sid, 'restore')"), 'verified',
	'inheritance and partitioning: restore verify passes');
is(verify_row($sid), 'verified|restore|<NULL>', 'catalog: verified at restore level, no verify_error');

# --- 5,000 tables ----------------------------------------------------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE wide');
$node->safe_psql('wide', q{
DO $$
BEGIN
	FOR i IN 1..5000 LOOP
		EXECUTE format('CREATE TABLE public.%I (v int)', 'table_with_a_long_name_' || i);
		IF i % 1000 = 0 THEN
			EXECUTE format('INSERT INTO public.%I SELECT generate_series(1, %s)', 'table_with_a_long_name_' || i, i / 1000);
		END IF;
	END LOOP;
END $$;
});
my $t0 = time;
my $wid = RippleTest::Cluster::backup_now($node, 'wide');
is(RippleTest::Cluster::wait_backup($node, $wid, '10 minutes'), 'succeeded', 'backup of 5,000 tables');
note(sprintf('backup of 5,000 tables: %.1f s', time - $t0));
is(scalar(keys %{ metadata_counts($wid) }), 5000, 'the metadata names 5,000 tables');
$t0 = time;
my ($ret, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_verify($wid, 'restore', '10 minutes')");
is($out, 'verified', '5,000 tables: restore verify passes');
note(sprintf('restore verify of 5,000 tables: %.1f s', time - $t0));
is(verify_row($wid), 'verified|restore|<NULL>', 'catalog: verified, no verify_error');

$node->stop;
done_testing();
