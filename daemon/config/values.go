package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// Parsers of single setting values; each error names the setting.

func hostPort(name, v string) (string, error) {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return "", &Error{name, fmt.Sprintf("must be host:port such as 127.0.0.1:8080, not %q", v)}
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return "", &Error{name, fmt.Sprintf("port %q is not a number from 0 to 65535", port)}
	}
	_ = host
	return v, nil
}

func intIn(name, v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, &Error{name, fmt.Sprintf("must be a whole number from %d to %d, not %q", lo, hi, v)}
	}
	return n, nil
}

func int64In(name, v string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, &Error{name, fmt.Sprintf("must be a whole number from %d to %d, not %q", lo, hi, v)}
	}
	return n, nil
}

func boolean(name, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, &Error{name, fmt.Sprintf("must be true or false, not %q", v)}
}

func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
