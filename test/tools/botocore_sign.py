#!/usr/bin/python3
"""botocore_sign.py - signs one request description with botocore's S3SigV4Auth
(the copy bundled in Debian's awscli) at a fixed time and prints the same fields
as test/tools/sigv4_sign.c, so test/t/011_sigv4_botocore.pl can compare them.

Input on stdin, as for sigv4_sign (name=value lines: scheme, method, host, path,
query (repeatable), header (repeatable, "Content-MD5: @body"), body_hex, payload,
time, region, service, access_key, secret_key, token).  The path is raw: it is
percent-encoded here the way botocore's REST serializer encodes an S3 key
(percent_encode(key, safe='/~')).  botocore's own add_auth() does the signing;
only its clock is replaced, and its debug log gives the canonical request and the
string to sign.
"""
import sys

sys.path.insert(0, '/usr/lib/python3/dist-packages/awscli')

import datetime  # noqa: E402
import logging  # noqa: E402
import types  # noqa: E402

import botocore  # noqa: E402
import botocore.auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.utils import calculate_md5, percent_encode  # noqa: E402

if not botocore.__file__.startswith('/usr/lib/python3/dist-packages/awscli/'):
    sys.exit('botocore_sign: not the botocore bundled with awscli: %s' % botocore.__file__)


def die(msg):
    sys.stderr.write('botocore_sign: %s\n' % msg)
    sys.exit(2)


fields = {}
query = {}
headers = []
body = b''
for raw in sys.stdin.buffer.read().decode('utf-8').split('\n'):
    line = raw.rstrip('\r')
    if not line or line.startswith('#'):
        continue
    if '=' not in line:
        die('input line without "="')
    name, value = line.split('=', 1)
    if name == 'query':
        qname, _, qvalue = value.partition('=')
        if qname in query:
            die('repeated query parameter %r' % qname)
        query[qname] = qvalue
    elif name == 'header':
        if ':' not in value:
            die('header without ":"')
        hname, hvalue = value.split(':', 1)
        headers.append((hname, hvalue.lstrip(' ')))
    elif name == 'body_hex':
        body = bytes.fromhex(value)
    elif name in ('scheme', 'method', 'host', 'path', 'payload', 'time', 'region',
                  'service', 'access_key', 'secret_key', 'token'):
        fields[name] = value
    else:
        die('unknown input field %r' % name)

for required in ('method', 'host', 'path', 'region', 'access_key', 'secret_key', 'time'):
    if required not in fields:
        die('%s is required' % required)

stamp = fields['time']
fixed = datetime.datetime.strptime(stamp, '%Y%m%dT%H%M%SZ')


class FixedClock(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return fixed


# botocore.auth calls datetime.datetime.utcnow(); give it a stopped clock.
botocore.auth.datetime = types.SimpleNamespace(datetime=FixedClock)


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


capture = Capture()
auth_log = logging.getLogger('botocore.auth')
auth_log.setLevel(logging.DEBUG)
auth_log.addHandler(capture)
auth_log.propagate = False

scheme = fields.get('scheme', 'http')
url = '%s://%s%s' % (scheme, fields['host'], percent_encode(fields['path'], safe='/~'))
hdrs = {}
for hname, hvalue in headers:
    if hvalue == '@body':
        hvalue = calculate_md5(body)
    if hname in hdrs:
        die('repeated header %r' % hname)
    hdrs[hname] = hvalue

request = AWSRequest(method=fields['method'], url=url, headers=hdrs,
                     data=body if body else None, params=dict(query))
if 'payload' in fields:
    # UNSIGNED-PAYLOAD the way a botocore user asks for it: the client's S3 config
    if fields['payload'] != 'UNSIGNED-PAYLOAD':
        die('payload may only be UNSIGNED-PAYLOAD here (botocore hashes the body itself)')
    request.context['client_config'] = types.SimpleNamespace(
        s3={'payload_signing_enabled': False})
credentials = Credentials(fields['access_key'], fields['secret_key'], fields.get('token') or None)
auth = botocore.auth.S3SigV4Auth(credentials, fields.get('service', 's3'), fields['region'])
auth.add_auth(request)

logged = {}
for record in capture.records:
    if record.args and record.msg.endswith(':\n%s'):
        logged[record.msg.split(':')[0]] = record.args[0]
for needed in ('CanonicalRequest', 'StringToSign', 'Signature'):
    if needed not in logged:
        die('botocore did not log its %s' % needed)

creq = logged['CanonicalRequest']
canonical_query = creq.split('\n')[2]
authorization = request.headers['Authorization']
if isinstance(authorization, bytes):
    authorization = authorization.decode('ascii')
signed_headers = authorization.split('SignedHeaders=')[1].split(',')[0]

out = sys.stdout
out.write('url=%s%s\n' % (url, '?' + canonical_query if query else ''))
out.write('canonical_request_hex=%s\n' % creq.encode('utf-8').hex())
out.write('string_to_sign_hex=%s\n' % logged['StringToSign'].encode('utf-8').hex())
out.write('signed_headers=%s\n' % signed_headers)
out.write('signature=%s\n' % logged['Signature'])
out.write('authorization=%s\n' % authorization)
out.write('content_sha256=%s\n' % request.headers['X-Amz-Content-SHA256'])
out.write('security_token_set=%d\n' % (1 if 'X-Amz-Security-Token' in request.headers else 0))
for hname, hvalue in hdrs.items():
    out.write('header=%s: %s\n' % (hname, hvalue))
