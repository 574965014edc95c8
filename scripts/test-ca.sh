# A test CA and the certificates it signs, for the checks and benchmarks that need TLS as on the
# real web (names and chains checked, no blanket exemption); source it. Two days, P-256.
#   test_ca DIR                 DIR/ca.pem, DIR/ca.key; and an NSS database in DIR/home trusting
#                               the CA (Chromium started with HOME=DIR/home trusts it)
#   test_leaf DIR NAME DNSNAME  DIR/NAME.pem and DIR/NAME.key, a server certificate for DNSNAME

test_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$1/ca.key" -out "$1/ca.pem" -subj "/CN=fabstir test CA" \
    -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  mkdir -p "$1/home/.pki/nssdb"
  certutil -d "sql:$1/home/.pki/nssdb" -N --empty-password
  certutil -d "sql:$1/home/.pki/nssdb" -A -n fabstir-test-ca -t "C,," -i "$1/ca.pem"
}

test_leaf() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1/$2.key" \
    -out "$1/$2.csr" -subj "/CN=$3" 2>/dev/null
  printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:false\nextendedKeyUsage=serverAuth\n' "$3" >"$1/$2.ext"
  openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" -CAcreateserial \
    -days 2 -out "$1/$2.pem" -extfile "$1/$2.ext" 2>/dev/null
  rm -f "$1/$2.csr" "$1/$2.ext"
}
