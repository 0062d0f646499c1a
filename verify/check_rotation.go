package verify

import (
	"context"

	"github.com/mirror-dissonance/mirror-infra/oracle/nonce"
	"github.com/mirror-dissonance/mirror-infra/report"
)

// IDRotation is the id of the rotation check (nonce.RotationCheck).
const IDRotation = nonce.CheckID

func init() {
	register(check{Entry: Entry{ID: IDRotation, Writes: true,
		Summary: "rotates the nonce once: the old version is accepted within the grace period and rejected after it; the new one is accepted"},
		rank: 110, run: (*session).checkRotation})
}

// checkRotation creates a nonce version (it stays): it needs the write
// calls of nonce.SSMAPI, which NewClients' SSM client has.
func (s *session) checkRotation(ctx context.Context) report.Check {
	s.nonceWrites.Lock()
	defer s.nonceWrites.Unlock()
	ssmc, ok := s.c.SSM.(nonce.SSMAPI)
	if !ok {
		return lacksCalls(IDRotation, "Clients.SSM", "GetParametersByPath and PutParameter")
	}
	c := nonce.RotationCheck(ctx, nonce.New(ssmc, s.tgt.Environment, s.tgt.NoncePrefix, s.tgt.KMSKey, s.opts.NonceGrace))
	c.ID = IDRotation
	return c
}

// lacksCalls is the result of a writing check whose substituted client
// lacks the calls it makes.
func lacksCalls(id, field, calls string) report.Check {
	return report.Check{ID: id, Status: report.Fail, Infra: true,
		Reason: "not run: " + field + " lacks " + calls,
		Fix:    "build the clients with verify.NewClients, or give " + field + " a client with these methods"}
}
