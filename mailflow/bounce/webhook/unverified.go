package webhook

import "fmt"

// DecodeUnverified decodes a payload of provider (ProviderSES,
// ProviderPostmark, ProviderMailgun or ProviderSendGrid) WITHOUT checking
// any credential or signature. It is for looking at saved payloads
// (parleyd inspect webhook), never for requests. An SES payload may be an
// SNS message or a bare SES notification; a Mailgun one a webhook body or
// a bare event-data object.
func DecodeUnverified(provider string, body []byte) ([]Event, error) {
	switch provider {
	case ProviderSES:
		return decodeSESUnverified(body)
	case ProviderPostmark:
		return decodePostmark(body)
	case ProviderMailgun:
		return decodeMailgunUnverified(body)
	case ProviderSendGrid:
		return decodeSendGrid(body)
	}
	return nil, fmt.Errorf("unknown webhook provider %q", provider)
}
