# What changed for the seed tutorial's programs between Python 2 and today's Python 3.
# Each experiment is one command; tests/seed_python.rs runs them against real sockets.
#   python3 seed_today.py str HOST PORT       a str where the seed sends one, then bytes
#   python3 seed_today.py partial HOST PORT   settimeout makes send() partial; sendall() is not
import sys
from socket import *

experiment, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
mysock = socket(AF_INET, SOCK_STREAM)
mysock.connect((host, port))

# ANCHOR: str
if experiment == 'str':
    try:
        mysock.send('Hello network world')             # the seed's line: a str
    except TypeError as error:
        print('TypeError:', error)                     # Python 3 sends bytes, never str
    mysock.send('Hello network world'.encode('utf-8')) # bytes: b'Hello network world'
    data = mysock.recv(1024)
    print('Client received:', repr(data))              # bytes come back: b'|From Server| ...'
    print('as text:', data.decode('utf-8'))
# ANCHOR_END: str

# ANCHOR: partial
if experiment == 'partial':
    # The server never reads: its receive buffer and our send buffer fill up, and stay full.
    big = b'x' * (64 * 1024 * 1024)
    mysock.settimeout(5)            # a timeout makes the socket non-blocking underneath...
    sent = mysock.send(big)         # ...so send() returns what fitted, without waiting
    print('send() sent %d of %d bytes' % (sent, len(big)))
    mysock.settimeout(0.5)
    try:
        mysock.sendall(big[sent:])  # sendall() loops until all is sent, or the time is up
    except timeout as error:        # socket.timeout (TimeoutError since Python 3.10)
        print('sendall() timed out:', error)
# ANCHOR_END: partial

mysock.close()
