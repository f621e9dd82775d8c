package apiconv

import (
	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/identity"
)

// User is the full account view, shown to its owner.
func User(u identity.User) *cloudv1.User {
	return &cloudv1.User{
		Id:              u.ID,
		Username:        u.Username,
		Number:          u.Number,
		FullName:        optional(u.FullName),
		Email:           optional(u.Email),
		Confirmed:       u.Confirmed,
		Locked:          u.Locked,
		NodeLimit:       int32(u.NodeLimit),
		KeycloakId:      u.ID, // the subject of the account's tokens
		Type:            userType(u.Type),
		Timezone:        u.Timezone,
		Tags:            userTags(u.Tags),
		DefaultPlanCode: u.DefaultPlanCode,
		LastLoginAt:     Time(u.LastLoginAt),
		CreatedAt:       Time(u.CreatedAt),
		UpdatedAt:       Time(u.UpdatedAt),
	}
}

// BasicUser is the short account view shown to fellow project members.
func BasicUser(u identity.User) *cloudv1.BasicUser {
	return &cloudv1.BasicUser{
		Id:        u.ID,
		Username:  u.Username,
		FullName:  optional(u.FullName),
		Email:     optional(u.Email),
		Type:      userType(u.Type),
		Timezone:  u.Timezone,
		Tags:      userTags(u.Tags),
		NodeLimit: int32(u.NodeLimit),
	}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func userType(t identity.UserType) cloudv1.UserType {
	switch t {
	case identity.UserTypeUser:
		return cloudv1.UserType_USER_TYPE_USER
	case identity.UserTypeServiceAccount:
		return cloudv1.UserType_USER_TYPE_SERVICE_ACCOUNT
	}
	return cloudv1.UserType_USER_TYPE_UNSPECIFIED
}

func userTags(tags []identity.Tag) []cloudv1.UserTag {
	out := make([]cloudv1.UserTag, 0, len(tags))
	for _, t := range tags {
		if v, ok := cloudv1.UserTag_value["USER_TAG_"+string(t)]; ok {
			out = append(out, cloudv1.UserTag(v))
		}
	}
	return out
}
