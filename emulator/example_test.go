package emulator_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/mirror-dissonance/mirror-infra/emulator"
)

// A test starts an emulator, seeds one environment (with a defect, or
// none) and builds its SDK clients from the Seeded's Config. Seed picks a unique
// environment name when none is given: kumo keeps its state per process,
// so a fixed name could be seeded only once per test binary.
func Example() {
	e := emulator.Start()
	defer e.Close()
	ctx := context.Background()
	s, err := e.Seed(ctx, emulator.SeedOptions{Defects: []emulator.Defect{emulator.DefectPITROff}})
	if err != nil {
		fmt.Println(err)
		return
	}
	db := dynamodb.NewFromConfig(s.Config)
	for _, name := range s.Names.Tables() {
		pitr, err := db.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name)})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(strings.TrimPrefix(name, s.Names.Prefix()), pitr.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus)
	}
	info, _ := emulator.DefectPITROff.Info()
	fmt.Println(info.Name+":", info.Description)
	// Output:
	// fp-events ENABLED
	// consent DISABLED
	// block-counter ENABLED
	// pitr-off: point-in-time recovery is off on the consent table
}
