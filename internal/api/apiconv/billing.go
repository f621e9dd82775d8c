package apiconv

import (
	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/billing"
)

// BillingProfile maps a billing profile; a consumer's has no company. A
// bill's buyer (billing.Bill.Buyer) has no timestamps, and gets none.
func BillingProfile(p billing.Profile) *cloudv1.BillingProfile {
	out := &cloudv1.BillingProfile{
		Id:           p.ID,
		Name:         p.Name,
		CountryCode:  p.CountryCode,
		Street:       p.Street,
		City:         p.City,
		Postcode:     p.Postcode,
		BillingEmail: p.BillingEmail,
		TaxRate:      float32(p.TaxRate.Percent()),
		CreatedAt:    Time(p.CreatedAt),
		UpdatedAt:    Time(p.UpdatedAt),
	}
	if p.State != "" {
		out.State = &p.State
	}
	if p.Company != "" {
		out.Company = &cloudv1.BillingProfileCompany{Name: p.Company}
		if p.VATID != "" {
			out.Company.VatId = &p.VATID
		}
	}
	return out
}
