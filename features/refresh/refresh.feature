@refresh @browser
Feature: Refreshing the access token
  When the access token expires the app sends grant_type=refresh_token with its refresh token
  and gets a new access and refresh token pair (Marketing Cloud rotates refresh tokens). The
  refresh token it used is spent: using it again must fail (RFC 9700 §4.14.2).

  @RF-01 @req:S-16 @MUST @web
  Scenario: A refresh returns a new access token and a new refresh token
    Given the web app
    And the app has redeemed a fresh code at the token endpoint
    When the app refreshes its tokens
    Then the token endpoint answers 200
    And the new access token differs from the previous one
    And the new refresh token differs from the previous one

  @RF-02 @req:S-17 @MUST @web @public
  Scenario Outline: The <app>'s spent refresh token is refused after rotation
    Given the <app>
    And the app has redeemed a fresh code at the token endpoint
    And the app has refreshed its tokens
    When the app refreshes with the refresh token it has already used
    Then the token endpoint answers 400 with error invalid_grant

    Examples:
      | app        |
      | web app    |
      | public app |
