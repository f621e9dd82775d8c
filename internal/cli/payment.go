package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	paymentv1 "github.com/gpcore/gpcore/gen/gpcore/api/payment/v1"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
)

// testConfirmPath is where a server with the built-in test payment provider
// confirms card setups (billing.TestConfirmHandler).
const testConfirmPath = "/payment/test/confirm"

// maxConfirmAnswerBytes bounds the test provider's JSON answer.
const maxConfirmAnswerBytes = 64 << 10

func newPaymentCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "payment",
		Short: "Payment methods of billing profiles",
		Args:  cobra.NoArgs,
	}
	card := &cobra.Command{
		Use:     "card",
		Aliases: []string{"cards"},
		Short:   "Credit cards: list, add, choose the default, remove",
		Long: `The credit cards of a billing profile; bills are charged to its default card.
A CARD argument is a card's id or its last four digits. --billing-profile
takes a profile's id, name or company name and defaults to your only one.`,
		Args: cobra.NoArgs,
	}
	card.AddCommand(newCardListCommand(), newCardAddCommand(), newCardDefaultCommand(), newCardRemoveCommand())
	cmd.AddCommand(card)
	return cmd
}

func newCardListCommand() *cobra.Command {
	var (
		profile string
		pf      pageFlags
	)
	cmd := listCommand("List the cards of a billing profile", &pf, func(ctx context.Context, c *call) error {
		p, err := c.billingProfile(ctx, profile)
		if err != nil {
			return err
		}
		res, err := c.payment.ListCreditCards(ctx, connect.NewRequest(&paymentv1.ListCreditCardsRequest{BillingProfileId: p.GetId(), Pagination: pf.request()}))
		if err != nil {
			return err
		}
		return c.printPage(res.Msg, func(w io.Writer) error { return cardTable(w, res.Msg.GetCreditCards()...) })
	})
	addProfileFlag(cmd, &profile)
	return cmd
}

func newCardAddCommand() *cobra.Command {
	var profile, token string
	cmd := apiCommand(&cobra.Command{
		Use:   "add",
		Short: "Add a card to a billing profile (a test card token with the built-in test provider)",
		Long: `Add a credit card to a billing profile. The CLI never handles card numbers:
AddCreditCard starts a card setup at the server's payment provider and the
card appears once the provider confirms it.

With the built-in test payment provider (a server without Stripe keys),
--token names a test card and the CLI confirms the setup itself: it posts
the setup id and the token to the server's POST /payment/test/confirm, the
test provider's stand-in for Stripe.js. Tokens: tok_visa, tok_visa_debit,
tok_mastercard, tok_mastercard_debit, tok_amex, tok_discover, tok_diners,
tok_jcb; tok_chargeCustomerFail is added but its charges fail;
tok_chargeDeclined, tok_chargeDeclinedInsufficientFunds and
tok_chargeDeclinedExpiredCard are declined.

With Stripe, leave --token out: the command prints the setup's client secret,
which Stripe.js (confirmCardSetup) completes in a browser.`,
		Example: `  gpcore payment card add --billing-profile "Analytical Engines Ltd" --token tok_visa`,
		Args:    cobra.NoArgs,
	}, func(ctx context.Context, c *call, _ []string) error {
		p, err := c.billingProfile(ctx, profile)
		if err != nil {
			return err
		}
		setup, err := c.payment.AddCreditCard(ctx, connect.NewRequest(&paymentv1.AddCreditCardRequest{BillingProfileId: p.GetId()}))
		if err != nil {
			return err
		}
		secret := setup.Msg.GetStripeSetupIdent()
		if token == "" {
			return c.done(setup.Msg, "Card setup started; its client secret is %s.\n"+
				"With Stripe, Stripe.js completes it in a browser (confirmCardSetup); the card appears once Stripe confirms it.\n"+
				"With the built-in test provider, add a test card with --token instead (tok_visa, ...).", secret)
		}
		cardID, err := c.confirmTestCard(ctx, secret, token)
		if err != nil {
			return err
		}
		card, err := c.card(ctx, p.GetId(), cardID)
		if err != nil {
			return err
		}
		return c.print(card, func(w io.Writer) error { return cardTable(w, card) })
	})
	addProfileFlag(cmd, &profile)
	cmd.Flags().StringVar(&token, "token", "", "test card token to confirm the setup with, for the built-in test payment provider only (tok_visa, ...)")
	return cmd
}

// confirmTestCard completes the card setup setupID at the built-in test
// payment provider with a test card token, and returns the new card's id.
func (c *call) confirmTestCard(ctx context.Context, setupID, token string) (string, error) {
	form := url.Values{"setup_intent": {setupID}, "payment_method": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.server+testConfirmPath, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.web.Do(req)
	if err != nil {
		return "", fmt.Errorf("confirm the card at the test payment provider: %w", err)
	}
	defer res.Body.Close()
	var answer struct {
		CreditCardID string `json:"credit_card_id"`
		Error        *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, maxConfirmAnswerBytes)).Decode(&answer); err != nil {
		return "", fmt.Errorf("the server does not confirm test cards (POST %s answered %s): it uses a real payment provider; leave --token out", testConfirmPath, res.Status)
	}
	switch {
	case answer.Error != nil:
		return "", fmt.Errorf("the test payment provider refused the card: %s: %s", answer.Error.Code, answer.Error.Message)
	case res.StatusCode != http.StatusOK || answer.CreditCardID == "":
		return "", fmt.Errorf("the test payment provider answered %s without a card", res.Status)
	}
	return answer.CreditCardID, nil
}

func newCardDefaultCommand() *cobra.Command {
	var profile string
	cmd := apiCommand(&cobra.Command{
		Use:   "default CARD",
		Short: "Make a card the one bills are charged to",
		Args:  cobra.ExactArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		profileID, cardID, err := c.cardRef(ctx, profile, args[0])
		if err != nil {
			return err
		}
		res, err := c.payment.ChangeDefaultCreditCard(ctx, connect.NewRequest(&paymentv1.ChangeDefaultCreditCardRequest{BillingProfileId: profileID, Id: cardID}))
		if err != nil {
			return err
		}
		return c.print(res.Msg, func(w io.Writer) error { return cardTable(w, res.Msg.GetCreditCard()) })
	})
	addProfileFlag(cmd, &profile)
	return cmd
}

func newCardRemoveCommand() *cobra.Command {
	var (
		profile string
		yes     bool
	)
	cmd := apiCommand(&cobra.Command{
		Use:     "remove CARD",
		Aliases: []string{"rm", "delete"},
		Short:   "Remove a card (not the last one of a profile a project uses)",
		Long:    `Remove a card from a billing profile. Asks for confirmation unless --yes.`,
		Args:    cobra.ExactArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		profileID, cardID, err := c.cardRef(ctx, profile, args[0])
		if err != nil {
			return err
		}
		if !yes {
			if err := c.confirm(fmt.Sprintf("remove card %s", args[0])); err != nil {
				return err
			}
		}
		res, err := c.payment.RemoveCreditCard(ctx, connect.NewRequest(&paymentv1.RemoveCreditCardRequest{BillingProfileId: profileID, Id: cardID}))
		if err != nil {
			return err
		}
		return c.done(res.Msg, "Removed card %s.", args[0])
	})
	addProfileFlag(cmd, &profile)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "remove without asking")
	return cmd
}

// cardTable writes cards as a table.
func cardTable(w io.Writer, cards ...*typev1.CreditCard) error {
	t := newTable(w, "ID", "CARD", "EXPIRES", "DEFAULT", "VALID", "3-D SECURE")
	for _, cc := range cards {
		expires := ""
		if cc.GetExpiresAt() != nil {
			// expires_at is the first instant after the last valid month.
			expires = cc.GetExpiresAt().AsTime().UTC().AddDate(0, 0, -1).Format("01/2006")
		}
		t.row(cc.GetId(), enumName(cc.GetType())+" •••• "+cc.GetLast_4Digits(), expires, yesNo(cc.GetActive()),
			yesNo(cc.GetValid()), yesNo(cc.GetSupports_3DSecure()))
	}
	return t.flush()
}

// cards returns every card of a billing profile, all pages.
func (c *call) cards(ctx context.Context, profileID string) ([]*typev1.CreditCard, error) {
	return allPages(ctx, func(ctx context.Context, p *typev1.PaginationRequest) ([]*typev1.CreditCard, *typev1.PaginationResponse, error) {
		res, err := c.payment.ListCreditCards(ctx, connect.NewRequest(&paymentv1.ListCreditCardsRequest{BillingProfileId: profileID, Pagination: p}))
		if err != nil {
			return nil, nil, err
		}
		return res.Msg.GetCreditCards(), res.Msg.GetPagination(), nil
	})
}

// card returns the card id of a billing profile.
func (c *call) card(ctx context.Context, profileID, id string) (*typev1.CreditCard, error) {
	cards, err := c.cards(ctx, profileID)
	if err != nil {
		return nil, err
	}
	for _, cc := range cards {
		if cc.GetId() == id {
			return cc, nil
		}
	}
	return nil, fmt.Errorf("the billing profile has no card %s", id)
}

// cardRef returns the id of the billing profile profileRef names (see
// billingProfile) and the id of its card ref names: an id or the last four
// digits.
func (c *call) cardRef(ctx context.Context, profileRef, ref string) (string, string, error) {
	p, err := c.billingProfile(ctx, profileRef)
	if err != nil {
		return "", "", err
	}
	list := func(ctx context.Context) ([]*typev1.CreditCard, error) { return c.cards(ctx, p.GetId()) }
	id, err := resolve(ctx, ref, "card", list, (*typev1.CreditCard).GetId, (*typev1.CreditCard).GetLast_4Digits)
	return p.GetId(), id, err
}
