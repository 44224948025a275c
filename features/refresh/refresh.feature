@refresh @browser
Feature: Refreshing the access token
  When the access token expires the app sends grant_type=refresh_token with its refresh token
  and gets a new access and refresh token pair (Marketing Cloud rotates refresh tokens). The
  refresh token it used is spent: using it again must fail and revoke the whole family
  (RFC 9700 §4.14.2). A refresh token is bound to its client, needs the client's secret, and can
  narrow the scope but never widen it (RFC 6749 §6).

  Background:
    Given the web app
    And the user has authorized the app in the browser, with the refresh scope, and the app has redeemed the code

  @RF-01 @req:S-16 @MUST @web
  Scenario: A refresh returns a new access token
    When the app refreshes its tokens
    Then the token endpoint answers 200
    And the new access token differs from the previous one

  @RF-01 @req:S-16 @MUST @web @sfmc
  Scenario: A refresh returns a new refresh token (Marketing Cloud rotates them)
    When the app refreshes its tokens
    Then the token endpoint answers 200
    And the new refresh token differs from the previous one

  @RF-02 @req:S-17 @MUST @web
  Scenario: The spent refresh token is refused after rotation
    Given the app has refreshed its tokens
    When the app refreshes with the refresh token it has already used
    Then the token endpoint answers 400 with error invalid_grant

  @RF-03 @req:S-17 @MUST @web
  Scenario: Replaying a spent refresh token revokes the newest one too
    Given the app has refreshed its tokens
    When the app refreshes with the refresh token it has already used
    Then the newest refresh token is refused too

  @RF-03 @req:S-17 @PROBE @web
  Scenario: Replaying a spent refresh token revokes the newest access token too
    RFC 9700 §4.14.2 asks only that the active refresh token be revoked; an access token that
    outlives the detected theft is recorded as a finding.

    Given the app has refreshed its tokens
    And the access token works at the REST API
    When the app refreshes with the refresh token it has already used
    Then the newest access token is refused by the REST API

  @RF-04 @req:S-17 @PROBE @web @serial @waits
  Scenario Outline: The grace window of a spent refresh token, at <secs> seconds
    Given the app has refreshed its tokens
    When the app refreshes with the refresh token it has already used after <secs> seconds
    Then the token endpoint answers 400 with error invalid_grant

    Examples: (at 0 seconds it is RF-02)
      | secs |
      | 5    |
      | 30   |

  @RF-05 @req:S-16 @MUST @web @second-app
  Scenario: Another client cannot use the app's refresh token
    When the second web app refreshes with the app's refresh token
    Then the token endpoint refuses it

  @RF-06 @req:S-16 @MUST @web
  Scenario: A web app must authenticate to refresh
    When the app refreshes without its client secret
    Then the token endpoint answers 401 with error invalid_client

  @RF-07 @req:RFC6749-6 @MUST @web
  Scenario: A refresh may narrow the scope
    When the app refreshes asking for scope "{first_scope} {refresh_scope}"
    Then the token endpoint answers 200
    And the token response's scope is "{first_scope} {refresh_scope}"

  @RF-07 @req:RFC6749-6 @MUST @web
  Scenario: A refresh may not widen the scope
    When the app refreshes asking for scope "{granted} {wider_scope}"
    Then the token endpoint answers 400 with error invalid_scope

  @RF-08 @req:S-17 @MUST @web @intrusive
  Scenario: The same refresh token sent 3 times at once succeeds exactly once
    Given the app has refreshed its tokens
    When the app refreshes 3 times at once with the same refresh token
    Then exactly one of them succeeded

  @RF-09 @req:S-15 @MUST @web
  Scenario: A refresh error has the error shape with 400 invalid_grant
    Given the app has refreshed its tokens
    When the app refreshes with the refresh token it has already used
    Then the token endpoint answers 400 with error invalid_grant
    And the error body has exactly the fields "error, error_description, error_uri"
    And the token response's media type is "application/json"

  @RF-10 @req:SFMC @MUST @web @sfmc @sign-out
  Scenario: Without offline, tokens die when the user signs out
    Needs the target's sign-out page (a target file's logout_url); the simulator has none.
    Given the app has redeemed another code without asking for the refresh scope
    When the user signs out of Marketing Cloud in the browser
    Then the access token is refused by the REST API

  @RF-11 @req:SFMC @PROBE @web @sfmc @simulator @serial
  Scenario: A chain of 5 refreshes, 29 days apart, keeps working (the 30-day lifetime slides)
    When the app refreshes 5 times, 29 days apart
    Then the token endpoint answers 200
