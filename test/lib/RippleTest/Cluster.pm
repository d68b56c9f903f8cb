# RippleTest::Cluster — a PostgreSQL test cluster with ripple_backup preloaded and
# configured, for the TAP tests of the extension (test/t/00x, 02x), plus small
# helpers those tests share.
#
#   my $node = RippleTest::Cluster->new_node('main',
#       destination => "file://$dir",        # or s3 => $s3server, prefix => 'backups'
#       extension   => 1);                   # CREATE EXTENSION in the catalog database
#   my $id = RippleTest::Cluster::backup_now($node, 'app');
#   my $status = RippleTest::Cluster::wait_backup($node, $id);
#   my $row = RippleTest::Cluster::backup_row($node, $id);    # hashref of the catalog row
#
# The S3 settings point at a RippleTest::S3Server (path style, its credentials in a
# shared-credentials file written beside the data directory, never in a setting).
package RippleTest::Cluster;

use strict;
use warnings;
use File::Spec;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::S3Server ();
use Time::HiRes qw(usleep);

# Settings (postgresql.conf lines) that point ripple_backup at an S3 test server.
sub s3_conf {
	my ($node, $s3, %opt) = @_;
	my $bucket = $opt{bucket} // $s3->bucket;
	my $prefix = $opt{prefix} // 'backups';
	my $cred = File::Spec->rel2abs($node->basedir . '/aws_credentials');
	open my $fh, '>', $cred or die "cannot write $cred: $!";
	print $fh "[default]\naws_access_key_id = $RippleTest::S3Server::ACCESS_KEY\n"
	  . "aws_secret_access_key = $RippleTest::S3Server::SECRET_KEY\n";
	close $fh;
	chmod 0600, $cred;
	return "ripple_backup.destination = 's3://$bucket/$prefix'\n"
	  . "ripple_backup.s3_endpoint = '" . $s3->endpoint . "'\n"
	  . "ripple_backup.s3_uri_style = 'path'\n"
	  . "ripple_backup.s3_region = 'us-east-1'\n"
	  . "ripple_backup.s3_credentials_file = '$cred'\n";
}

# Creates and starts a cluster with ripple_backup in shared_preload_libraries.
# Options: database (catalog db, default postgres), destination (URL), s3 (server),
# prefix, max_workers, conf (extra lines), preload (default 1), extension (default 1),
# init (hashref of options for PostgreSQL::Test::Cluster::init), no_start.
sub new_node {
	my ($class, $name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(%{ $opt{init} // {} });
	my $conf = '';
	$conf .= "shared_preload_libraries = 'ripple_backup'\n" if $opt{preload} // 1;
	$conf .= "ripple_backup.database = '$opt{database}'\n" if $opt{database};
	$conf .= "ripple_backup.destination = '$opt{destination}'\n" if $opt{destination};
	$conf .= s3_conf($node, $opt{s3}, prefix => $opt{prefix}) if $opt{s3};
	$conf .= "ripple_backup.max_workers = $opt{max_workers}\n" if $opt{max_workers};
	$conf .= "max_worker_processes = 16\n";
	# a failure is final unless a test asks for backup-level retries (074)
	$conf .= "ripple_backup.backup_retries = 0\n" if $opt{preload} // 1;
	$conf .= $opt{conf} // '';
	$node->append_conf('postgresql.conf', $conf);
	return $node if $opt{no_start};
	$node->start;
	if ($opt{extension} // 1) {
		$node->safe_psql($opt{database} // 'postgres', 'CREATE EXTENSION ripple_backup');
	}
	return $node;
}

sub _lit {
	my ($s) = @_;
	$s =~ s/'/''/g;
	return "'$s'";
}

# Queues a backup of $dbname (committed at once); returns its id.
sub backup_now {
	my ($node, $dbname, $label, $catalog) = @_;
	my $sql = 'SELECT ripple_backup_now(' . _lit($dbname)
	  . (defined $label ? ', ' . _lit($label) : '') . ')';
	return $node->safe_psql($catalog // 'postgres', $sql);
}

# Waits (ripple_backup_wait) and returns 'succeeded' or 'failed'.
sub wait_backup {
	my ($node, $id, $timeout, $catalog) = @_;
	$timeout //= '3 minutes';
	return $node->safe_psql($catalog // 'postgres', "SELECT ripple_backup_wait($id, '$timeout')");
}

# The catalog row of a backup as a hashref (NULL → undef), or undef.
sub backup_row {
	my ($node, $id, $catalog) = @_;
	my @cols = qw(id dbname backup_type label status size_bytes sha256 location error
	  object_key compression system_identifier started_at finished_at);
	my $sel = join(', ', map { "coalesce($_\::text, '<NULL>')" } @cols);
	my $out = $node->safe_psql($catalog // 'postgres',
		"SELECT $sel FROM ripple_backup.backups WHERE id = $id",
		extra_params => [ '-F', "\x1f" ]);
	return undef if $out eq '';
	my @v = split /\x1f/, $out, -1;
	my %row;
	@row{@cols} = map { $_ eq '<NULL>' ? undef : $_ } @v;
	return \%row;
}

# Polls until $sql (run in $db) returns $expected or $timeout seconds pass; returns
# the last value.
sub poll_value {
	my ($node, $db, $sql, $expected, $timeout) = @_;
	$timeout //= 60;
	my $v;
	for (1 .. $timeout * 10) {
		$v = $node->safe_psql($db, $sql);
		return $v if $v eq $expected;
		usleep(100_000);
	}
	return $v;
}

# Creates database $db with a few tables of known sizes (one with a quoted name in
# another schema, one empty); returns { "schema.table" => rows }.
sub create_app_db {
	my ($node, $db, $rows) = @_;
	$rows //= 5000;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, qq{
		CREATE TABLE accounts AS SELECT g AS id, md5(g::text) AS owner FROM generate_series(1, $rows) g;
		CREATE SCHEMA sales;
		CREATE TABLE sales."Orders" (id int PRIMARY KEY, note text);
		INSERT INTO sales."Orders" SELECT g, repeat('x', g % 50) FROM generate_series(1, 1234) g;
		CREATE TABLE empty_one (x int);
	});
	return { 'public.accounts' => $rows, 'sales.Orders' => 1234, 'public.empty_one' => 0 };
}

# Creates table public.slow in $db with $rows rows whose restore takes at least 5 ms a
# row (a CHECK constraint that sleeps), so that a test can act during a restore.
sub create_slow_table {
	my ($node, $db, $rows) = @_;
	$node->safe_psql($db, qq{
		CREATE FUNCTION public.slow_ok(int) RETURNS boolean LANGUAGE sql
		  AS 'SELECT pg_catalog.pg_sleep(0.005) IS NOT NULL';
		CREATE TABLE public.slow (x int CHECK (public.slow_ok(x)));
		INSERT INTO public.slow SELECT g FROM generate_series(1, $rows) g;
	});
}

# Row counts of the tables named in $counts ("schema.table" keys), read from $db.
sub count_rows {
	my ($node, $db, $counts) = @_;
	my %got;
	for my $key (keys %$counts) {
		my ($schema, $table) = split /\./, $key, 2;
		$got{$key} = $node->safe_psql($db, qq{SELECT count(*) FROM "$schema"."$table"});
	}
	return \%got;
}

# The children of $pid (from ps), with their command names: { pid => comm }.
sub children_of {
	my ($pid) = @_;
	my %kids;
	for my $line (split /\n/, `ps -o pid=,comm= --ppid $pid 2>/dev/null`) {
		$kids{$1} = $2 if $line =~ /^\s*(\d+)\s+(\S+)/;
	}
	return \%kids;
}

1;
