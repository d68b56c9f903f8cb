# RippleTest::Runbook — runs a scenario of docs/DISASTER_RECOVERY_RUNBOOK.md as
# written: extracts the command blocks whose info string is `sh runbook:NAME` or
# `sql runbook:NAME`, in the order they appear, and runs them one after the other in
# one shell session (bash -e -o pipefail; variables a block sets are seen by the
# next), after replacing only the runbook's documented variables.  `sql` blocks go
# to `psql -X -v ON_ERROR_STOP=1 -d postgres`.
#
#   my $rb = RippleTest::Runbook->new(scenario => 'complete-loss', env => \%env,
#       cwd => $dir, subst => [ [ 'acme-backups' => 'test' ], [ qr/\b1234\b/ => 7 ] ]);
#   my $r = $rb->run_next;     # { rc, out, err, seconds, line, text }
#   $rb->var('ID');            # a variable the blocks set
#   $rb->remaining;            # blocks not run yet
#   $rb->seconds;              # time spent in the blocks so far
#
# When the test already runs as postgres, `runuser -u postgres -- ` is removed (the
# runbook's commands run as root and switch to postgres with it).
package RippleTest::Runbook;

use strict;
use warnings;
use Cwd ();
use File::Temp qw(tempdir);
use IPC::Run ();
use Time::HiRes qw(time);

our $FILE = ($ENV{RIPPLE_SRC} // '.') . '/docs/DISASTER_RECOVERY_RUNBOOK.md';

# The blocks of a scenario: [ { lang, text, line } ], indentation of the fence removed.
sub blocks {
	my ($scenario, $file) = @_;
	$file //= $FILE;
	open my $fh, '<', $file or die "cannot read $file: $!";
	my (@blocks, $cur, $indent);
	my $n = 0;
	while (my $line = <$fh>) {
		$n++;
		if (!$cur) {
			if ($line =~ /^(\s*)```(sh|sql) runbook:([\w-]+)\s*$/ && $3 eq $scenario) {
				$indent = length $1;
				$cur = { lang => $2, text => '', line => $n };
			}
			next;
		}
		if ($line =~ /^\s*```\s*$/) {
			push @blocks, $cur;
			undef $cur;
			next;
		}
		$line =~ s/^ {0,$indent}//;
		$cur->{text} .= $line;
	}
	die "unterminated runbook block at line $cur->{line} of $file" if $cur;
	return @blocks;
}

sub new {
	my ($class, %opt) = @_;
	my @blocks = blocks($opt{scenario}, $opt{file});
	die "no runbook:$opt{scenario} blocks in " . ($opt{file} // $FILE) unless @blocks;
	my $self = bless {
		scenario => $opt{scenario},
		blocks   => \@blocks,
		env      => $opt{env} // {%ENV},
		cwd      => $opt{cwd} // Cwd::getcwd(),
		subst    => $opt{subst} // [],
		state    => tempdir('runbook_XXXX', TMPDIR => 1, CLEANUP => 1) . '/state',
		vars     => {},
		seconds  => 0,
	}, $class;
	open my $fh, '>', $self->{state} or die;
	close $fh;
	return $self;
}

sub remaining { scalar @{ $_[0]{blocks} } }
sub seconds   { $_[0]{seconds} }
sub var       { $_[0]{vars}{ $_[1] } }

# Adds substitutions (same form as new's subst) for the blocks still to run.
sub add_subst {
	my ($self, @pairs) = @_;
	push @{ $self->{subst} }, @pairs;
}

sub set_env {
	my ($self, %kv) = @_;
	$self->{env}{$_} = $kv{$_} for keys %kv;
}

sub _substitute {
	my ($self, $text) = @_;
	for my $p (@{ $self->{subst} }) {
		my ($from, $to) = @$p;
		my $re = ref $from ? $from : qr/\Q$from\E/;
		$text =~ s/$re/$to/g;
	}
	$text =~ s/runuser -u postgres -- //g if (getpwuid($<))[0] eq 'postgres';
	return $text;
}

# Runs the next block; returns { rc, out, err, seconds, line, text }.
sub run_next {
	my ($self) = @_;
	my $b = shift @{ $self->{blocks} } or die "no runbook:$self->{scenario} block left";
	my $text = $self->_substitute($b->{text});
	$text = "psql -X -v ON_ERROR_STOP=1 -d postgres <<'RUNBOOK_SQL'\n${text}RUNBOOK_SQL\n"
	  if $b->{lang} eq 'sql';
	my $state = $self->{state};
	my $script = "set -e -o pipefail\n. '$state'\nset -a\n$text\nset +a\nexport -p > '$state.new'\n";
	my ($out, $err) = ('', '');
	my $t0 = time;
	{
		local %ENV = %{ $self->{env} };
		my $old = Cwd::getcwd();
		chdir $self->{cwd} or die "chdir $self->{cwd}: $!";
		IPC::Run::run([ 'bash', '-c', $script ], '<', \undef, '>', \$out, '2>', \$err);
		chdir $old;
	}
	my $rc = $? >> 8;
	my $secs = time - $t0;
	$self->{seconds} += $secs;
	$self->_keep_state if $rc == 0;
	return { rc => $rc, out => $out, err => $err, seconds => $secs, line => $b->{line}, text => $text };
}

# Keeps the variables the block set (not those of the test's environment).
sub _keep_state {
	my ($self) = @_;
	my $new = "$self->{state}.new";
	open my $in, '<', $new or return;
	my @keep;
	while (my $l = <$in>) {
		next unless $l =~ /^declare -x ([A-Za-z_][A-Za-z0-9_]*)(=(.*))?$/;
		my ($name, $val) = ($1, $3);
		next if $name =~ /^(PWD|OLDPWD|SHLVL|_)$/;
		next if exists $self->{env}{$name};
		push @keep, $l;
		$self->{vars}{$name} = defined $val ? ($val =~ s/^"(.*)"$/$1/r) : '';
	}
	close $in;
	open my $out, '>', $self->{state} or die;
	print $out @keep;
	close $out;
}

1;
