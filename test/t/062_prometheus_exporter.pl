# 062_prometheus_exporter.pl — the documented scrape path, end to end: Debian's
# prometheus-postgres-exporter runs docs/postgres_exporter_queries.yaml as a role that
# has only the grants docs/monitoring.md lists, Prometheus scrapes the exporter, and a
# PromQL query returns the health of the backed-up database.
use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IPC::Run ();
use JSON::PP ();
use Test::More;
use Time::HiRes qw(usleep);
use RippleTest::Cluster;
use RippleTest::S3Server ();

for my $bin (qw(prometheus-postgres-exporter prometheus)) {
	my $found = grep { -x "$_/$bin" } split /:/, "$ENV{PATH}:/usr/bin";
	BAIL_OUT("$bin is not installed (test/setup.sh installs it)") unless $found;
}

my $tmp = tempdir('exporter_XXXX', TMPDIR => 1, CLEANUP => 1);
my $json = JSON::PP->new->utf8;
my $dest = "$tmp/backups";
mkdir $dest;

my $node = RippleTest::Cluster->new_node('exporter', destination => "file://$dest",
	conf => "ripple_backup.drill_schedule = ''\n");
RippleTest::Cluster::create_app_db($node, 'app');
my $id = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'a backup of app');
is(RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT verify_status FROM ripple_backup.backups WHERE id = $id", 'verified', 60),
	'verified', 'verified after the backup');
# the grants of docs/monitoring.md, nothing more
$node->safe_psql('postgres', q{
	CREATE ROLE monitor LOGIN;
	GRANT EXECUTE ON FUNCTION ripple_backup_health(), ripple_backup_metrics() TO monitor;
});

# One HTTP GET to 127.0.0.1:$port; returns (status, body).
sub http_get {
	my ($port, $path) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
		Timeout => 5) or return (0, '');
	print $s "GET $path HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
	local $/;
	my $resp = <$s> // '';
	close $s;
	my ($head, $body) = split /\r\n\r\n/, $resp, 2;
	my ($status) = ($head // '') =~ m{^HTTP/\S+\s+(\d+)};
	return ($status // 0, $body // '');
}

my $eport = RippleTest::S3Server::free_port();
my $dsn = sprintf('postgresql://monitor@/postgres?host=%s&port=%d&sslmode=disable',
	$node->host, $node->port);
my $exporter = IPC::Run::start(
	[ 'env', "DATA_SOURCE_NAME=$dsn", 'prometheus-postgres-exporter',
	  "--extend.query-path=$ENV{RIPPLE_SRC}/docs/postgres_exporter_queries.yaml",
	  "--web.listen-address=127.0.0.1:$eport", '--disable-default-metrics',
	  '--disable-settings-metrics' ],
	'<', \undef, '>', "$tmp/exporter.log", '2>&1');
my ($st, $metrics) = (0, '');
for (1 .. 100) {
	($st, $metrics) = http_get($eport, '/metrics');
	last if $st == 200 && $metrics =~ /ripple_backup_health_status/;
	usleep(200_000);
}
is($st, 200, 'the exporter answers');
like($metrics, qr/^ripple_backup_health_status\{[^}]*dbname="app"[^}]*\} 0$/m,
	'it exports the health of app (0 = ok) through the queries file')
  or diag(substr($metrics, 0, 3000) . "\n" . `cat $tmp/exporter.log`);
like($metrics, qr/^ripple_backup_health_rpo_target_seconds\{[^}]*dbname="app"[^}]*\} 90000$/m,
	'and the RPO target (25 h)');
like($metrics, qr/^ripple_backup_health_last_success_timestamp_seconds\{[^}]*dbname="app"[^}]*\} [\d.e+]+$/m,
	'and the last success');

my $pport = RippleTest::S3Server::free_port();
open my $fh, '>', "$tmp/prometheus.yml" or die $!;
print $fh <<"EOF";
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: ripple_backup
    static_configs:
      - targets: ['127.0.0.1:$eport']
EOF
close $fh;
my $prom = IPC::Run::start(
	[ 'prometheus', "--config.file=$tmp/prometheus.yml", "--storage.tsdb.path=$tmp/tsdb",
	  "--web.listen-address=127.0.0.1:$pport" ],
	'<', \undef, '>', "$tmp/prometheus.log", '2>&1');
my $result = [];
for (1 .. 150) {
	my ($s, $b) = http_get($pport, '/api/v1/query?query=ripple_backup_health_status%7Bdbname%3D%22app%22%7D');
	if ($s == 200) {
		my $r = eval { $json->decode($b) } // {};
		$result = $r->{data}{result} // [];
		last if @$result;
	}
	usleep(200_000);
}
is(scalar @$result, 1, 'Prometheus scraped the exporter: the PromQL query returns one series')
  or diag(`tail -20 $tmp/prometheus.log`);
is($result->[0]{metric}{dbname}, 'app', 'for database app');
is($result->[0]{value}[1], '0', 'with the value 0 (ok)');

$prom->kill_kill;
$exporter->kill_kill;
$node->stop;
done_testing();
