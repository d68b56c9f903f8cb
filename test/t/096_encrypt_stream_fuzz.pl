# 096_encrypt_stream_fuzz.pl — runs the libFuzzer harness of the decryptor's header
# and chunk parser (test/fuzz/encrypt_stream_fuzz.c: raw objects give the same outcome
# however they are chunked; encrypted objects changed in any way always fail and pass on
# only whole authenticated chunks) for a bounded time (20 s, 5 s per input) from the
# committed seed corpus, and asserts a clean end: exit 0, no sanitizer report or broken
# invariant, no crash artifact, and a real number of executions.
use strict;
use warnings;
use File::Temp qw(tempdir);
use IPC::Run qw(run);
use Test::More;

my $src = $ENV{RIPPLE_SRC} // '.';
my $bin = "$src/build/fuzz/encrypt_stream_fuzz";
my $seeds = "$src/test/fuzz/corpus_encrypt_stream";
my $secs = 20;

ok(-x $bin, 'the encrypt_stream fuzzer is built') or do { done_testing(); exit 0; };
my @seed_files = glob("$seeds/*");
cmp_ok(scalar(@seed_files), '>=', 10, 'the seed corpus is there');

# New inputs go to a scratch corpus (first directory), never into the tree.
my $dir = tempdir(CLEANUP => 1);
mkdir "$dir/corpus" or die "mkdir: $!";
my @cmd = ($bin, "-max_total_time=$secs", '-timeout=5', '-rss_limit_mb=2048',
	"-artifact_prefix=$dir/", '-print_final_stats=1', "$dir/corpus", $seeds);
my $out = '';
run(\@cmd, '<', \undef, '>&', \$out);
my $rc = $? >> 8;

is($rc, 0, 'the fuzzer exits 0') or diag(substr($out, -4000));
unlike($out, qr/(==\d+==ERROR|deadly signal|runtime error|encrypt_stream_fuzz: |SUMMARY: )/,
	'no crash, sanitizer report or broken invariant');
my @artifacts = glob("$dir/crash-* $dir/timeout-* $dir/oom-* $dir/leak-*");
is(scalar(@artifacts), 0, 'no crash artifact was written') or diag(join("\n", @artifacts));
my ($runs) = $out =~ /Done (\d+) runs in/;
ok(defined $runs && $runs > 1000, 'the fuzzer ran many inputs') or diag(substr($out, -2000));
note("encrypt_stream_fuzz: " . ($runs // 'no') . " executions in $secs s");

done_testing();
