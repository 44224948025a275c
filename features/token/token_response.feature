@token @browser
Feature: The token response
  A successful token response is JSON with the access token, a refresh token (the offline scope
  was asked for), expires_in, token_type Bearer, the tenant's REST and SOAP instance URLs and the
  granted scope (RFC 6749 §5.1; Marketing Cloud Access Token for Web and Public Apps). It must not
  be cached: Cache-Control no-store and Pragma no-cache, on refresh too.

  Background:
    Given the web app
    And the user has authorized the app in the browser, with the refresh scope, and the app has redeemed the code

  @TR-01 @req:S-14 @MUST @web
  Scenario: The fields RFC 6749 requires are there with their JSON types
    Then the token response has these fields:
      | field             | type    |
      | access_token      | string  |
      | token_type        | string  |
    And the token response's "token_type" is "Bearer", in any letter case

  @TR-01 @req:S-14 @MUST @web @sfmc
  Scenario: Every field Marketing Cloud documents is there with its JSON type
    Then the token response has these fields:
      | field             | type    |
      | access_token      | string  |
      | refresh_token     | string  |
      | expires_in        | integer |
      | token_type        | string  |
      | rest_instance_url | string  |
      | soap_instance_url | string  |
      | scope             | string  |
    And the token response's "token_type" is "Bearer", in any letter case

  @TR-02 @req:S-14 @MUST @web
  Scenario: The token response is JSON
    Then the token response's media type is "application/json"

  @TR-03 @req:S-14 @MUST @web
  Scenario: The token response must not be cached
    Then the token response's "Cache-Control" header includes "no-store"

  @TR-03 @req:S-14 @MUST @web
  Scenario: The refresh response must not be cached either
    When the app refreshes its tokens
    Then the token endpoint answers 200
    And the token response's "Cache-Control" header includes "no-store"

  @TR-03 @req:S-14 @MUST @web @sfmc
  Scenario: The token and refresh responses carry Pragma no-cache
    RFC 6749 §5.1 asks for Pragma too; RFC 9111 has since deprecated it and OAuth 2.1 drops it,
    so only Marketing Cloud's dialect holds a server to it.

    Then the token response's "Pragma" header includes "no-cache"
    When the app refreshes its tokens
    Then the token endpoint answers 200
    And the token response's "Pragma" header includes "no-cache"

  @TR-04 @req:RFC6749-A.12 @MUST @web @sfmc
  Scenario: Tokens are visible ASCII and at most 512 characters
    Then the tokens consist of visible ASCII characters and are at most 512 characters long

  @TR-05 @req:S-18 @MUST @web
  Scenario: Tokens are unique, and what varies between them could hold 128 bits
    Length and alphabet of the part that varies, an upper bound: a JWT's signature passes it
    whatever the key, and no black-box test can prove randomness.

    Given 6 access and refresh tokens collected by refreshing
    Then the collected values are unique and what varies between them could hold at least 128 bits

  @TR-06 @req:S-30 @SHOULD @web @sfmc @slow @serial
  Scenario: The access token lives as long as expires_in says, and not past 20 minutes
    Then the access token works until expires_in, and is refused 1210 seconds after it was issued

  @TR-07 @req:RFC6749-3.3 @MUST @web @sfmc
  Scenario: Asking for fewer scopes at the token endpoint narrows the grant
    Marketing Cloud takes a scope at the token endpoint; RFC 6749 §4.1.3 defines none there.

    Given the user has authorized the app in the browser
    When the app redeems the code with scope set to "{first_scope}"
    Then the token endpoint answers 200
    And the token response's scope is "{first_scope}"

  @TR-07 @req:RFC6749-3.3 @MUST @web @sfmc
  Scenario: Asking for a scope that was not granted is refused with invalid_scope
    Given the user has authorized the app in the browser
    When the app redeems the code with scope set to "{ungranted_scope}"
    Then the token endpoint answers 400 with error invalid_scope

  @TR-07 @req:RFC6749-3.3 @MUST @web @sfmc
  Scenario: Scope order does not matter
    Given the user has authorized the app in the browser
    When the app redeems the code with scope set to "{granted_reversed}"
    Then the token endpoint answers 200
    And the token response's scope is "{granted}"

  @TR-08 @req:SFMC @MUST @web @sfmc
  Scenario: The instance URLs are HTTPS URLs on the tenant's subdomain
    Then the token response's "rest_instance_url" is an https URL on a "rest.marketingcloudapis.com" host, ending in a slash
    And the token response's "soap_instance_url" is an https URL on a "soap.marketingcloudapis.com" host, ending in a slash

  @TR-08 @req:SFMC @MUST @web @sfmc
  Scenario: The instance URLs stay the same across a refresh
    When the app refreshes its tokens
    Then the token endpoint answers 200
    And the refresh answer has the same shape as the code exchange's
    And the token response's "rest_instance_url" is an https URL on a "rest.marketingcloudapis.com" host, ending in a slash
