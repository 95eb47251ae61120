package session

import (
	"strings"
	"time"
)

// Time is a date-time rendered as the platform does: UTC, milliseconds and a
// literal Z; the zero time is null.
type Time time.Time

// MarshalJSON renders the platform's date-time form.
func (t Time) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

// NotificationPresence is the upper-case system presence notifications and
// analytics use ("On Queue" → "ON_QUEUE").
func NotificationPresence(system string) string {
	return strings.ToUpper(strings.ReplaceAll(system, " ", "_"))
}

// PresenceDefinitionRef is the presence definition inside events.
type PresenceDefinitionRef struct {
	ID             string `json:"id"`
	SystemPresence string `json:"systemPresence"`
}

// PresenceBody is the body of v2.users.{id}.presence.
type PresenceBody struct {
	Source             string                `json:"source"`
	PresenceDefinition PresenceDefinitionRef `json:"presenceDefinition"`
	Message            string                `json:"message"`
	ModifiedDate       Time                  `json:"modifiedDate"`
}

// PresenceEvent builds the presence notification body.
func PresenceEvent(v *View) PresenceBody {
	return PresenceBody{Source: "PURECLOUD", PresenceDefinition: PresenceDefinitionRef{ID: v.Presence.DefinitionID,
		SystemPresence: NotificationPresence(v.Presence.SystemPresence)}, Message: v.Presence.Message, ModifiedDate: Time(v.Presence.Modified)}
}

// RoutingStatusBody is the body of v2.users.{id}.routingStatus.
type RoutingStatusBody struct {
	ID            string            `json:"id"`
	RoutingStatus RoutingStatusItem `json:"routingStatus"`
}

// RoutingStatusItem is a status and since when.
type RoutingStatusItem struct {
	Status    Status `json:"status"`
	StartTime Time   `json:"startTime"`
}

// RoutingStatusEvent builds the routing status notification body.
func RoutingStatusEvent(v *View) RoutingStatusBody {
	return RoutingStatusBody{ID: v.UserID, RoutingStatus: RoutingStatusItem{Status: v.Status, StartTime: Time(v.StatusStart)}}
}

// StationBody is the body of v2.users.{id}.station; AssociatedStation is
// null once the agent logged out.
type StationBody struct {
	AssociatedStation *AssociatedStation `json:"associatedStation"`
}

// AssociatedStation is the station a user is logged into.
type AssociatedStation struct {
	ID             string  `json:"id"`
	Name           string  `json:"name"`
	AssociatedUser UserRef `json:"associatedUser"`
	AssociatedDate Time    `json:"associatedDate"`
}

// UserRef is a reference to a user.
type UserRef struct {
	ID string `json:"id"`
}

func stationEvent(v *View) StationBody {
	if v.StationID == "" {
		return StationBody{}
	}
	return StationBody{AssociatedStation: &AssociatedStation{ID: v.StationID, Name: v.StationName,
		AssociatedUser: UserRef{ID: v.UserID}, AssociatedDate: Time(v.StationSince)}}
}

// ActivityBody is the body of v2.users.{id}.activity: routing status and
// presence together.
type ActivityBody struct {
	ID            string            `json:"id"`
	RoutingStatus RoutingStatusItem `json:"routingStatus"`
	Presence      ActivityPresence  `json:"presence"`
}

// ActivityPresence is the presence inside an activity event.
type ActivityPresence struct {
	PresenceDefinition PresenceDefinitionRef `json:"presenceDefinition"`
	PresenceMessage    string                `json:"presenceMessage"`
	ModifiedDate       Time                  `json:"modifiedDate"`
}

// ActivityEvent builds the activity notification body.
func ActivityEvent(v *View) ActivityBody {
	return ActivityBody{ID: v.UserID, RoutingStatus: RoutingStatusItem{Status: v.Status, StartTime: Time(v.StatusStart)},
		Presence: ActivityPresence{PresenceDefinition: PresenceDefinitionRef{ID: v.Presence.DefinitionID, SystemPresence: NotificationPresence(v.Presence.SystemPresence)},
			PresenceMessage: v.Presence.Message, ModifiedDate: Time(v.Presence.Modified)}}
}
