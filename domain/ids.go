package domain

import "encoding/hex"

// ValidID reports whether s is an ID: a UUID of any version in canonical
// text, lower-case hex in groups of 8-4-4-4-12, such as
// "0b5e4c1e-8f2a-4d7b-9c3e-2a1f6d8e9b70". Every identifier in this package
// (users, schools, sessions, grants) is one. The nil UUID, all zeros, is
// not a valid ID: it marks a value nobody set.
func ValidID(s string) bool {
	if len(s) != 36 || s == nilID {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isLowerHex(c) {
				return false
			}
		}
	}
	return true
}

// NewIDFrom formats b as an ID. The domain draws no random numbers: the
// caller does. NewIDFrom sets no version or variant bits, so pass the bytes
// of a UUID (a github.com/google/uuid value converts to [16]byte) or set
// them before calling. Sixteen zero bytes give the nil UUID, which ValidID
// refuses.
func NewIDFrom(b [16]byte) string {
	var buf [36]byte
	hex.Encode(buf[0:8], b[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], b[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], b[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], b[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], b[10:])
	return string(buf[:])
}

const nilID = "00000000-0000-0000-0000-000000000000"

func isLowerHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f'
}

// validSHA256Hex reports whether s is a SHA-256 digest as 64 lower-case
// hex characters.
func validSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerHex(s[i]) {
			return false
		}
	}
	return true
}
