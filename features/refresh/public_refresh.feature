@refresh @browser
Feature: Refreshing as the public app
  A public app has no secret to bind its refresh token to, so RFC 9700 §2.2.2 requires the
  server to rotate it (or sender-constrain it): the spent refresh token must be refused, in every
  dialect. Marketing Cloud documents rotation for web apps too (refresh.feature).

  Background:
    Given the public app
    And the user has authorized the app in the browser, with the refresh scope, and the app has redeemed the code

  @RF-02 @req:S-17 @MUST @public
  Scenario: The public app's spent refresh token is refused after rotation
    Given the app has refreshed its tokens
    When the app refreshes with the refresh token it has already used
    Then the token endpoint answers 400 with error invalid_grant
