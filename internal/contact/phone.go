package contact

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultCountry reads national numbers when a list names no country.
const DefaultCountry = "ES"

// NormalizePhone returns raw in E.164 (+34911234567), reading national
// numbers as numbers of country (ISO 3166 alpha-2; "" = ES). Numbers that do
// not parse or are not valid numbers of their country are an error.
func NormalizePhone(raw, country string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("is empty")
	}
	if len(raw) > 64 {
		return "", errors.New("is too long for a phone number")
	}
	if country == "" {
		country = DefaultCountry
	}
	n, err := phonenumbers.Parse(raw, strings.ToUpper(country))
	if err != nil {
		return "", errors.New("is not a phone number: " + strings.ToLower(err.Error()))
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", errors.New("is not a valid phone number")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// ZoneOf returns the IANA time zone of an E.164 number (the first one when
// the number spans several), or "" when unknown.
func ZoneOf(e164 string) string {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return ""
	}
	zones, err := phonenumbers.GetTimezonesForNumber(n)
	if err != nil || len(zones) == 0 || zones[0] == "" || zones[0] == "Etc/Unknown" {
		return ""
	}
	return zones[0]
}

// validCountry reports whether c is a region libphonenumber knows.
func validCountry(c string) bool {
	return len(c) == 2 && phonenumbers.GetCountryCodeForRegion(c) != 0
}
