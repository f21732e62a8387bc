# The seed tutorial's echo server, in Python 3, as written in the tutorial.
# Differences, each marked "changed": bytes instead of str (Python 3), host and port from the
# command line (default: the seed's '' and 50007), and one line saying where it listens.
import sys
from socket import *

# ''代表服务器为localhost  ('' means every interface; the tests pass 127.0.0.1)
myHost = sys.argv[1] if len(sys.argv) > 1 else ''      # changed: from the command line
myPort = int(sys.argv[2]) if len(sys.argv) > 2 else 50007

mysock = socket(AF_INET, SOCK_STREAM)
mysock.bind((myHost, myPort))
mysock.listen(5)
print('listening on %s:%d' % mysock.getsockname(), flush=True)  # changed: say where

while True:
    connection, address = mysock.accept()
    print('Server connected by', address, flush=True)
    while True:
        data = connection.recv(1024)
        if not data: break
        connection.send(b'|From Server| ' + data)        # changed: bytes
    connection.close()
