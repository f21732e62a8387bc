# The seed tutorial's echo client, in Python 3, as written in the tutorial.
# Differences, each marked "changed": bytes instead of str (Python 3), print() as a function,
# and host and port from the command line (default: the seed's 'localhost' and 50007).
import sys
from socket import *

serverHost = sys.argv[1] if len(sys.argv) > 1 else 'localhost'   # changed
serverPort = int(sys.argv[2]) if len(sys.argv) > 2 else 50007

message = [b'Hello network world']                                 # changed: bytes

mysock = socket(AF_INET, SOCK_STREAM)
mysock.connect((serverHost, serverPort))

for line in message:
    mysock.send(line)
    data = mysock.recv(1024)
    print('Client received:', repr(data))                          # changed: print()

mysock.close()
