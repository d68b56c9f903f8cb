# 013_s3_xml_fuzz.pl — runs the libFuzzer harness of the S3 XML reader/writer and
# the SigV4 path encoder (test/fuzz/s3_xml_fuzz.c) for a bounded time (30 s, 5 s
# per input) from the committed seed corpus, and asserts that it ends cleanly:
# exit 0, no sanitizer report or broken invariant, no crash artifact, and a real
# number of executions.
use strict;
use warnings;
use File::Temp qw(tempdir);
use IPC::Run qw(run);
use Test::More;

my $src = $ENV{RIPPLE_SRC} // '.';
my $bin = "$src/build/fuzz/s3_xml_fuzz";
my $seeds = "$src/test/fuzz/corpus_s3_xml";
my $secs = 30;

ok(-x $bin, 'the S3 XML fuzzer is built') or do { done_testing(); exit 0; };
my @seed_files = glob("$seeds/*");
cmp_ok(scalar(@seed_files), '>=', 8, 'the seed corpus is there');

# New inputs go to a scratch corpus (first directory), never into the tree.
my $dir = tempdir(CLEANUP => 1);
mkdir "$dir/corpus" or die "mkdir: $!";
my @cmd = ($bin, "-max_total_time=$secs", '-timeout=5', '-rss_limit_mb=2048',
	"-dict=$src/test/fuzz/s3_xml_fuzz.dict", "-artifact_prefix=$dir/", '-print_final_stats=1',
	"$dir/corpus", $seeds);
my $out = '';
run(\@cmd, '<', \undef, '>&', \$out);
my $rc = $? >> 8;

is($rc, 0, 'the fuzzer exits 0') or diag($out);
unlike($out, qr/(==\d+==ERROR|deadly signal|runtime error|s3_xml_fuzz: |SUMMARY: )/,
	'no crash, sanitizer report or broken invariant');
my @artifacts = glob("$dir/crash-* $dir/timeout-* $dir/oom-* $dir/leak-*");
is(scalar(@artifacts), 0, 'no crash artifact was written') or diag(join("\n", @artifacts));
my ($runs) = $out =~ /Done (\d+) runs in/;
ok(defined $runs && $runs > 1000, 'the fuzzer ran many inputs') or diag($out);
note("s3_xml_fuzz: " . ($runs // 'no') . " executions in $secs s");

done_testing();
