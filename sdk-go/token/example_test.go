package token_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

func ExampleSign() {
	secret := []byte("the PUSH_SECRET of the relay")
	tok, err := token.Sign(secret, token.Push, "room1/cam/1280x720-30~2000", time.Hour)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The token goes into the auth parameter of PUSH.
	fmt.Println(token.Verify(secret, tok, token.Push, "room1/cam/1280x720-30~2000", time.Now()))
	// Output: <nil>
}

func ExampleVerify() {
	secret := []byte("the PULL_SECRET of the relay")
	tok, _ := token.Sign(secret, token.Pull, "room1/cam", time.Minute)

	for _, check := range []struct {
		action Action
		stream string
		at     time.Time
	}{
		{token.Pull, "room1/cam", time.Now()},
		{token.Pull, "room2/cam", time.Now()},
		{token.Push, "room1/cam", time.Now()},
		{token.Pull, "room1/cam", time.Now().Add(time.Hour)},
	} {
		err := token.Verify(secret, tok, check.action, check.stream, check.at)
		switch {
		case err == nil:
			fmt.Println("allowed")
		case errors.Is(err, token.ErrExpired):
			fmt.Println("AUTH_ERROR: token expired, sign a new one")
		case errors.Is(err, token.ErrWrongSubject):
			fmt.Println("AUTH_ERROR: token is for another action or stream")
		default:
			fmt.Println("AUTH_ERROR:", err)
		}
	}
	// Output:
	// allowed
	// AUTH_ERROR: token is for another action or stream
	// AUTH_ERROR: token is for another action or stream
	// AUTH_ERROR: token expired, sign a new one
}

// Action is a local alias to keep the example table short.
type Action = token.Action
