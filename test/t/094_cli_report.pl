# 094_cli_report.pl — "ripple-backup report --html FILE": a self-contained HTML page
# built from the metadata objects alone, checked in a real browser.  Backups taken
# by the extension to a file:// destination (two databases, the second with one
# backup and a label full of markup); the page is rendered by Debian's headless
# chromium with a probe script added by the test (never part of the product) that
# counts, per chart, the points the browser laid out inside the plot area; the
# counts must equal the number of backups of each database (of restore-verified
# backups for the restore-time chart).  Verification status per backup comes from
# the records the verifier writes beside the objects (a corrupted backup: failed).  Also: no external
# resource is referenced, labels are escaped (no element made from them), the RPO
# verdict (met, then breached against a 1 s target), --db, refusing to replace a
# file without --force, and a report made after the server is gone.
use strict;
use warnings;
use File::Copy qw(copy);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $cli = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
my $chromium = -x '/usr/bin/chromium' ? '/usr/bin/chromium' : undef;
ok($chromium, 'chromium is installed (test/setup.sh installs it)')
  or BAIL_OUT('no chromium: the report cannot be checked in a browser');

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $work = PostgreSQL::Test::Utils::tempdir('work');
chmod 0777, $dir, $work;
# verifications only by hand, so each record beside an object is the one this test made
my $node = RippleTest::Cluster->new_node('report', destination => "file://$dir",
	conf => "ripple_backup.verify_after_backup = off\n");

RippleTest::Cluster::create_app_db($node, 'app', 2000);
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE TABLE t AS SELECT g FROM generate_series(1, 500) g');

my @app_ids;
for my $round (1 .. 3) {
	# the data grows between backups, so the size chart has three different points
	$node->safe_psql('app', "CREATE TABLE grow_$round AS SELECT g, md5(g::text) AS h "
		  . "FROM generate_series(1, $round * 20000) g");
	my $id = RippleTest::Cluster::backup_now($node, 'app', "round $round");
	is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', "backup $id of app succeeded");
	push @app_ids, $id;
}
my $evil_label = q{<img src=x onerror=alert(1)> & "quoted" 'single' </table>};
my $other_id = RippleTest::Cluster::backup_now($node, 'other', $evil_label);
is(RippleTest::Cluster::wait_backup($node, $other_id), 'succeeded', 'backup of other succeeded');

# verification records beside the objects: app's first backup restored by the verifier
# (a measured restore time), its second checked, its third corrupted and failed
is($node->safe_psql('postgres', "SELECT ripple_backup_verify($app_ids[0], 'restore')"), 'verified',
	'the first app backup verifies at restore level');
is($node->safe_psql('postgres', "SELECT ripple_backup_verify($app_ids[1], 'checksum')"), 'verified',
	'the second verifies at checksum level');
{
	my $key = RippleTest::Cluster::backup_row($node, $app_ids[2])->{object_key};
	my $file = "$dir/$key";
	ok(-f $file, 'the third backup\'s object is in the directory');
	open my $fh, '+<:raw', $file or die "$file: $!";
	seek $fh, 200, 0;
	read $fh, my $byte, 1;
	seek $fh, 200, 0;
	print $fh chr(ord($byte) ^ 0x55);
	close $fh;
}
is($node->safe_psql('postgres', "SELECT ripple_backup_verify($app_ids[2], 'checksum')"), 'failed',
	'the corrupted third fails verification');
my $restore_s = $node->safe_psql('postgres',
	"SELECT restore_seconds FROM ripple_backup.backups WHERE id = $app_ids[0]");
ok($restore_s > 0, "the verifier measured a restore time ($restore_s s)");

my %env = (%ENV);
delete $env{$_} for grep { /^(RIPPLE_BACKUP_|AWS_|PG(HOST|PORT|DATABASE|USER)$)/ } keys %env;
$env{HOME} = $work;

sub cli {
	my (@args) = @_;
	my ($out, $err) = ('', '');
	local %ENV = %env;
	IPC::Run::run([ $cli, @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# Renders $html in headless chromium with the probe and returns the DOM it built.
sub render {
	my ($html) = @_;
	my $page = slurp_file($html);
	# The probe runs after layout: for each chart, the points whose box the browser
	# drew with a size and whose centre lies inside the chart's plot rectangle.
	my $probe = <<'JS';
<script>
window.addEventListener('load', function () {
  document.querySelectorAll('figure.chart').forEach(function (f) {
    var plot = f.querySelector('rect.plot').getBoundingClientRect();
    var n = 0;
    f.querySelectorAll('circle.point').forEach(function (c) {
      var r = c.getBoundingClientRect();
      var x = r.left + r.width / 2, y = r.top + r.height / 2;
      if (r.width > 0 && r.height > 0 && x >= plot.left - 1 && x <= plot.right + 1 &&
          y >= plot.top - 1 && y <= plot.bottom + 1) n++;
    });
    f.setAttribute('data-rendered', String(n));
  });
  document.body.setAttribute('data-probe', 'done');
});
</script>
JS
	$page =~ s{</body>}{$probe</body>} or die 'no </body> in the report';
	my $probed = "$work/probed.html";
	open my $fh, '>', $probed or die $!;
	print $fh $page;
	close $fh;
	chmod 0644, $probed;
	my ($dom, $err) = ('', '');
	IPC::Run::run([ $chromium, '--headless', '--no-sandbox', '--disable-gpu',
			'--disable-dev-shm-usage', "--user-data-dir=$work/chromium-profile",
			'--virtual-time-budget=5000', '--dump-dom', "file://$probed" ],
		'<', \undef, '>', \$dom, '2>', \$err, IPC::Run::timeout(120));
	like($dom, qr/data-probe="done"/, 'chromium ran the page and the probe') or diag $err;
	return $dom;
}

# Per database section: chart name -> rendered points
sub rendered_points {
	my ($dom) = @_;
	my %got;
	while ($dom =~ m{<section class="database" data-db="([^"]*)">(.*?)</section>}sg) {
		my ($db, $body) = ($1, $2);
		while ($body =~ m{<figure\b([^>]*)>}g) {
			my $attrs = $1;
			my ($name) = $attrs =~ /data-chart="([^"]+)"/;
			my ($n) = $attrs =~ /data-rendered="(\d+)"/;
			$got{$db}{$name} = $n;
		}
	}
	return \%got;
}

# --- the report -----------------------------------------------------------------
my $html = "$work/report.html";
my ($rc, $out, $err) = cli('report', '--html', $html, '--destination', "file://$dir");
is($rc, 0, 'report exits 0') or diag $err;
ok(-s $html, 'the report file is written');
like($err, qr/wrote the report of 2 databases to/, 'it says what it wrote');
my $page = slurp_file($html);
unlike($page, qr/<script|<link|\@import|\burl\(|\bsrc\s*=\s*["']?(?:https?:)?\/\//i,
	'the page is self-contained: no script, stylesheet link, import or external source');
unlike($page, qr/<img/i, 'the label made no element (escaped)');
like($page, qr/&lt;img src=x onerror=alert\(1\)&gt; &amp; &quot;quoted&quot; &#39;single&#39; &lt;\/table&gt;/,
	'the label is shown escaped');
opendir my $dh, $work or die $!;
is(scalar(grep { /^\.ripple-report-/ } readdir $dh), 0, 'no temporary file is left');
closedir $dh;

my $dom = render($html);
my $pts = rendered_points($dom);
is_deeply($pts, {
		app   => { size => 3, duration => 3, ratio => 3, restore => 1 },
		other => { size => 1, duration => 1, ratio => 1, restore => 0 } },
	'chromium drew one point per backup in every chart, inside the plot')
  or diag explain $pts;
unlike($dom, qr/<img/i, 'the browser made no element from the label');
like($dom, qr/data-rpo="met"/, 'the RPO is met with the default target (25 hours)');

# the points' tooltips name the backups, in time order
my ($app_section) = $page =~ m{<section class="database" data-db="app">(.*?)</section>}s;
my ($size_chart) = $app_section =~ m{(<figure class="chart" data-chart="size".*?</figure>)}s;
my @tip_ids = $size_chart =~ /<title>backup (\d+),/g;
is_deeply(\@tip_ids, \@app_ids, 'the size chart has the app backups, oldest first');
my @cy = $size_chart =~ /<circle class="point" cx="[\d.]+" cy="([\d.]+)"/g;
ok($cy[0] > $cy[1] && $cy[1] > $cy[2], 'the size chart rises as the database grew (y falls in SVG)')
  or diag "@cy";
my @rows = $app_section =~ /<tr data-id="(\d+)">/g;
is_deeply(\@rows, [ reverse @app_ids ], 'the table lists the app backups newest first');
my %verify = $app_section =~ /<tr data-id="(\d+)">.*?data-verify="(\w+)"/g;
is_deeply(\%verify, { $app_ids[0] => 'verified', $app_ids[1] => 'verified', $app_ids[2] => 'failed' },
	'each backup\'s verification status comes from its record beside the object');
like($app_section, qr/<tr data-id="$app_ids[0]">.*?verified \(restore, [^)]*restored in /,
	'the restore-level verification shows its level and the measured restore time');
like($app_section, qr/<tr data-id="$app_ids[2]">.*?data-verify="failed" title="[^"]*(?:checksum|SHA-256|size)/i,
	'the failed one carries its error as the tooltip');
my ($restore_chart) = $app_section =~ m{(<figure class="chart" data-chart="restore".*?</figure>)}s;
my ($restore_tip) = $restore_chart =~ /<title>backup (\d+),/;
is($restore_tip, $app_ids[0], 'the restore-time chart has the restore-verified backup');
my ($other_section) = $page =~ m{<section class="database" data-db="other">(.*?)</section>}s;
like($other_section, qr/data-chart="restore" data-points="0".*?no data/s,
	'a database without a measured restore says "no data" in that chart');
like($other_section, qr/data-verify="unverified">not verified</, 'an unverified backup says so');

# --- RPO breached against a short target; --db; --force ----------------------------
sleep 2;
($rc, $out, $err) = cli('report', '--html', $html, '--destination', "file://$dir");
is($rc, 2, 'an existing file is not replaced without --force');
like($err, qr/already exists/, '... and says so');
($rc, $out, $err) = cli('report', '--html', $html, '--force', '--rpo-target', '1s',
	'--db', 'other', '--destination', "file://$dir");
is($rc, 0, 'report --db other --rpo-target 1s --force exits 0') or diag $err;
$page = slurp_file($html);
my @dbs = $page =~ /<section class="database" data-db="([^"]*)">/g;
is_deeply(\@dbs, ['other'], '--db shows only that database');
like($page, qr/data-rpo="breached"/, 'a 1 s target is breached by a backup seconds old');
($rc, $out, $err) = cli('report', '--destination', "file://$dir");
is($rc, 2, 'report without --html is a usage error');
($rc, $out, $err) = cli('report', '--html', $html, '--force', '--rpo-target', 'soon',
	'--destination', "file://$dir");
is($rc, 2, 'a bad --rpo-target is a usage error');
like($err, qr/invalid --rpo-target "soon"/, '... naming the value');

# --- with the server gone ----------------------------------------------------------
$node->stop;
($rc, $out, $err) = cli('report', '--html', "$work/after.html", '--destination', "file://$dir");
is($rc, 0, 'the report is made with the server stopped') or diag $err;
$pts = rendered_points(render("$work/after.html"));
is($pts->{app}{size}, 3, 'and it still draws every backup');

done_testing();
