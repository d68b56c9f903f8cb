# RippleTest::S3Server — starts and stops the S3-compatible test server
# (test/services/s3server.js, @20minutes/s3rver, which checks SigV4 signatures) for
# TAP tests, and reads back what was written with Debian's awscli, as a user would.
#
#   my $s3 = RippleTest::S3Server->new(bucket => 'test');   # started, free port
#   $s3->endpoint;          # http://127.0.0.1:PORT
#   $s3->stop; $s3->start;  # same port and data directory
#   my ($rc, $out, $err) = $s3->aws('s3api', 'head-object', '--bucket', 'test', '--key', 'k');
#   RippleTest::S3Server::make_file($path, $mib, $seed);  # a file of pseudo-random data
#   RippleTest::S3Server::sha_file($path);                # its SHA-256, hex
#
# Over HTTPS, with a certificate made by the test (make_tls below):
#   my $tls = RippleTest::S3Server::make_tls($dir, 'localhost', 'IP:127.0.0.1');
#   my $s3 = RippleTest::S3Server->new(https => $tls);   # endpoint https://127.0.0.1:PORT
#   $s3->aws(...) then trusts $tls->{ca} (awscli --ca-bundle).
# What arrived, for what s3rver does not keep (it drops x-amz-server-side-encryption):
#   my $s3 = RippleTest::S3Server->new(record => 1);
#   my @req = $s3->requests;   # [{ method, url, headers => { lowercase name => value } }]
#
# Credentials: access key S3RVER, secret S3RVER.
package RippleTest::S3Server;

use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IPC::Run ();
use Time::HiRes qw(usleep time);

our $ACCESS_KEY = 'S3RVER';
our $SECRET_KEY = 'S3RVER';
our $AWS = -x '/usr/bin/aws' ? '/usr/bin/aws' : 'aws';

sub free_port {
	for (1 .. 200) {
		my $port = 20000 + int(rand(30000));
		my $sock = IO::Socket::INET->new(
			LocalAddr => '127.0.0.1', LocalPort => $port,
			Proto => 'tcp', ReuseAddr => 0, Listen => 1);
		if ($sock) { close $sock; return $port; }
	}
	die "no free port found";
}

sub new {
	my ($class, %opt) = @_;
	my $self = bless {
		port    => $opt{port} // free_port(),
		dir     => $opt{directory} // tempdir('s3data_XXXX', TMPDIR => 1, CLEANUP => 1),
		buckets => [ @{ $opt{buckets} // [ $opt{bucket} // 'test' ] } ],
		log     => $opt{log} // undef,
		https   => $opt{https},
	}, $class;
	$self->{log} //= "$self->{dir}.log";
	$self->{record} = "$self->{dir}.requests" if $opt{record};
	$self->start unless $opt{no_start};
	return $self;
}

sub port     { $_[0]{port} }
sub endpoint { ($_[0]{https} ? 'https' : 'http') . '://127.0.0.1:' . $_[0]{port} }
sub bucket   { $_[0]{buckets}[0] }

sub _script {
	my $src = $ENV{RIPPLE_SRC} // '.';
	return "$src/test/services/s3server.js";
}

# Starts the server and waits until it accepts connections (10 s at most).
sub start {
	my ($self) = @_;
	die "s3 server already running" if $self->{h};
	my @cmd = ('node', _script(), '--port', $self->{port}, '--directory', $self->{dir},
		map { ('--bucket', $_) } @{ $self->{buckets} });
	push @cmd, '--cert', $self->{https}{cert}, '--key', $self->{https}{key} if $self->{https};
	push @cmd, '--record', $self->{record} if $self->{record};
	local $ENV{NODE_OPTIONS} = '--openssl-legacy-provider';
	$self->{h} = IPC::Run::start(\@cmd, '<', \undef, '>>', $self->{log}, '2>>', $self->{log});
	my $deadline = time + 10;
	while (time < $deadline) {
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port}, Proto => 'tcp');
		if ($s) { close $s; return $self; }
		usleep(50_000);
	}
	die "s3 server did not start on port $self->{port}; see $self->{log}";
}

# Stops the server at once (SIGKILL: as abrupt as a network failure).
sub stop {
	my ($self) = @_;
	return unless $self->{h};
	$self->{h}->signal('KILL');
	eval { $self->{h}->finish };
	delete $self->{h};
	# wait until the port is closed
	for (1 .. 100) {
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{port}, Proto => 'tcp');
		last unless $s;
		close $s;
		usleep(50_000);
	}
}

sub is_running { defined $_[0]{h} }

# Environment for a program that talks to this server (credentials, region).
sub env {
	my ($self) = @_;
	return (
		AWS_ACCESS_KEY_ID     => $ACCESS_KEY,
		AWS_SECRET_ACCESS_KEY => $SECRET_KEY,
		AWS_DEFAULT_REGION    => 'us-east-1',
		AWS_EC2_METADATA_DISABLED => 'true',
	);
}

# Runs awscli against this server; returns ($exit_code, $stdout, $stderr).
sub aws {
	my ($self, @args) = @_;
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, $self->env, AWS_CONFIG_FILE => '/dev/null',
		AWS_SHARED_CREDENTIALS_FILE => '/dev/null');
	my @tls = $self->{https} ? ('--ca-bundle', $self->{https}{ca}) : ();
	IPC::Run::run([ $AWS, '--endpoint-url', $self->endpoint, @tls, @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# Reads an object back with awscli into a local file; returns true on success.
sub fetch_object {
	my ($self, $key, $file, $bucket) = @_;
	my ($rc) = $self->aws('s3', 'cp', 's3://' . ($bucket // $self->bucket) . "/$key", $file);
	return $rc == 0;
}

# Lists the keys under a prefix with awscli.
sub list_keys {
	my ($self, $prefix, $bucket) = @_;
	my ($rc, $out, $err) = $self->aws('s3api', 'list-objects-v2', '--bucket', $bucket // $self->bucket,
		'--prefix', $prefix // '', '--query', 'Contents[].Key', '--output', 'text');
	die "list-objects-v2 failed: $err" if $rc;
	chomp $out;
	return () if $out eq '' || $out eq 'None';
	return split /\s+/, $out;
}

# The requests received so far (record => 1), oldest first: hashrefs with method,
# url and headers (names lowercase, as node gives them).
sub requests {
	my ($self) = @_;
	die "requests: the server was not started with record => 1" unless $self->{record};
	return () unless -e $self->{record};
	require JSON::PP;
	open my $fh, '<', $self->{record} or die "$self->{record}: $!";
	my @req = map { JSON::PP::decode_json($_) } grep { /\S/ } <$fh>;
	close $fh;
	return @req;
}

# Makes a test CA and a server certificate signed by it, with openssl, in $dir:
# returns { ca => ca.pem, cert => server.pem, key => server.key }.  $cn is the
# certificate's common name; @san its subjectAltName entries ('DNS:x', 'IP:1.2.3.4');
# $name (default 'server') names the files, so several certificates can share a CA.
sub make_tls {
	my ($dir, $cn, @san) = @_;
	my $name = 'server';
	$name = shift @san if @san && $san[0] !~ /^(?:DNS|IP):/;
	my $ca = "$dir/ca.pem";
	my $ca_key = "$dir/ca.key";
	my $run = sub {
		my ($out, $err) = ('', '');
		IPC::Run::run([ 'openssl', @_ ], '<', \undef, '>', \$out, '2>', \$err)
		  or die "openssl @_[0..1] failed: $err";
	};
	unless (-e $ca) {
		$run->('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj',
			'/CN=ripple_backup test CA', '-keyout', $ca_key, '-out', $ca,
			'-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
	}
	my ($key, $csr, $cert, $ext) = map { "$dir/$name.$_" } qw(key csr pem ext);
	open my $fh, '>', $ext or die "$ext: $!";
	print $fh "basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
"
	  . "extendedKeyUsage=serverAuth
" . (@san ? 'subjectAltName=' . join(',', @san) . "
" : '');
	close $fh;
	$run->('req', '-newkey', 'rsa:2048', '-nodes', '-subj', "/CN=$cn", '-keyout', $key, '-out', $csr);
	$run->('x509', '-req', '-in', $csr, '-CA', $ca, '-CAkey', $ca_key, '-CAcreateserial',
		'-days', '2', '-extfile', $ext, '-out', $cert);
	return { ca => $ca, cert => $cert, key => $key };
}

# Writes $mib MiB of pseudo-random data (from $seed) to $path, for uploads.
sub make_file {
	my ($path, $mib, $seed) = @_;
	open my $fh, '>', $path or die "$path: $!";
	binmode $fh;
	for my $i (1 .. $mib) {
		my $block = '';
		$block .= pack('N', ($seed = ($seed * 1103515245 + 12345) % 4294967296)) for 1 .. 256;
		print $fh $block x 1024;
	}
	close $fh;
}

# The SHA-256 (hex) of a file.
sub sha_file {
	require Digest::SHA;
	return Digest::SHA->new(256)->addfile($_[0])->hexdigest;
}

sub DESTROY { $_[0]->stop if $_[0]{h}; }

1;
