#!/bin/sh
set -eu
out=$("$TEST_SRCDIR/consumer/pod_demo")
echo "$out"
echo "$out" | grep -qx 'example eth0 10.99.0.7/24'
echo "$out" | grep -qx 'status: 10.99.0.7'
echo "$out" | grep -qx 'teardown: OK'
